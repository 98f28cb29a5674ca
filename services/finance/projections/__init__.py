"""Finance read models: payables, actuals and visits, replay-safe."""
