"""Staffing: employees, providers, credentials, enrolment, training, reviews, shifts, time off."""
