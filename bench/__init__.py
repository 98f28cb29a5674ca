"""Throughput benchmarks: `python -m bench` (or `make bench`, which provides Kafka and MongoDB).

It prints figures and asserts nothing about speed. Three measurements, per backend, and a fourth
only when asked for:

- append: single-event commits through our EventStore, against the `eventsourcing` library's
  SQLite store at the same durability;
- replay: a projection catching up on 100,000 CloudEvents from the bus into the document store,
  against the raw limit of the same path (plain SQLite / aiokafka + pymongo);
- scheduling (`--only scheduling`): a generated group of 6 sites and 60 providers over 90 days,
  the whole suite in-process: open-slot search latency against reading the same board
  documents raw, and booking throughput and latency at 16 concurrent clients against a bare
  one-event append (bench/scheduling.py, bench/clinic.py);
- split (`--only split`, Kafka + MongoDB only): booking -> audit entry and ledger block latency
  with scheduling and compliance as two `medoffice serve <service>` processes, against one
  `medoffice serve` process on the same servers in the same run (bench/split.py).

- x12 (`--only x12`, or `python -m bench.x12`): 837P generation for a month of a 6-site group
  (about 30,000 claims, a file per payer per day) against writing the same bytes by string
  joins with no model; pyx12 validation time apart (bench/x12.py).

- receivables (`--only receivables`, or `python -m bench.receivables [visits]`): billing's AR
  aging as of a date one year back over two years of a 6-site group's billing events, from the
  monthly snapshots and from the entries alone, against reading the same events raw
  (bench/receivables.py).

- finance (`--only finance`, or `python -m bench.finance [visits] [invoices]`): a month's P&L
  and budget versus actual for a 6-site group over a year of its revenue (360,000 visits),
  invoices (20,000) and payroll, from finance's ledger read model, against reading the same
  events raw and summing them (bench/finance.py).

Apart, on the embedded backend: `python -m bench.credentials` (issue 11), staffing's
expiring-credentials list and daily credential sweep for 2,000 employees with five years of
history, against the raw reads they cannot do without (bench/credentials.py). And for issue
17: `python -m bench.reminders`, a 6-site group's month of appointment messages scheduled and
sent a second (bench/reminders.py); `python -m bench.kpis`, the office KPI dashboard over a
6-site group's year, against reading the year's events raw (bench/kpis.py).
"""
