"""Records published outside every database of the suite, append-only: the Noticeboard port
and its file and Kafka-topic adapters (`port.py`)."""
