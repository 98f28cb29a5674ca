"""FHIR R4 read views of scheduling."""
