"""Finance's pure domain: its events and the deciders that record them."""
