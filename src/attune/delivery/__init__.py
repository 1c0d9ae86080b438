"""Delivery: personalised batches for a practitioner's clients.

batch.py         run_batch and BatchOptions (the flags, checked when built): the library's one call
runner.py        the one batch runner: plan once, submit, collect outcomes, publish, finish once
executor.py      the seam: what an executor is given (BatchPlan, TrackJob, Publication) and tells back
process_pool.py  the executor on this machine: in this process, or in preloaded worker processes
cluster.py       the executor on dask.distributed (--cluster): connection, worker checks, submission
dask_tasks.py    what a Dask worker runs: a track's render, a client's publication, the identity check
worker_check.py  the worker plugin: every worker (late joiners too) warmed and checked before it takes a task
track_job.py     one track rendered where it runs, into its manifest entry
report.py        each track's outcome, the progress events, the report and its summary
roster.py        the roster file: practitioner, clients, tracks and their settings
inputs.py        the files a track reads, carried as bytes and hashes
store.py         the destination: a local folder or any fsspec URL, objects whole or absent
manifest.py      DEST/manifest.json, typed both ways
access.py        DEST/access.json: each client's token and state; links.csv
access_admin.py  after a batch: list the links, rotate a client's token, revoke a client
access_remote.py rotate and revoke on object storage (each track object copied once, inside the storage)
publish.py       each client's page, feed, cover and zip
feed.py          the private podcast feed (RSS 2.0, iTunes, Podcasting 2.0, Podlove Simple Chapters)
categories.py    Apple Podcasts' categories, for the roster's `category:`
page.py          the listening page (jinja2, autoescaped)
layout.py        paths inside the output folder
preload.py       what the batch's forkserver imports before forking workers
"""
