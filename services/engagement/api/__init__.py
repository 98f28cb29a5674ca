"""Engagement over HTTP: a patient's channel consent, an appointment's messages."""
