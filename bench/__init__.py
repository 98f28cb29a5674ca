"""Throughput benchmarks: `python -m bench` (or `make bench`, which provides Kafka and MongoDB).

It prints figures and asserts nothing about speed. Two measurements, per backend:

- append: single-event commits through our EventStore, against the `eventsourcing` library's
  SQLite store at the same durability;
- replay: a projection catching up on 100,000 CloudEvents from the bus into the document store,
  against the raw limit of the same path (plain SQLite / aiokafka + pymongo).
"""
