"""Files handed to and taken from parties outside the suite: the FileDrop port and its
drop-folder and SFTP adapters (`port.py`)."""
