"""Delivery: personalised batches for a practitioner's clients.

roster.py    the roster file: practitioner, clients, tracks and their settings
batch.py     run_batch: what to render, what is unchanged, the report
jobs.py      one track as a job, rendered where the job runs
pool.py      worker processes (a preloaded forkserver), stopped cleanly on Ctrl-C
cluster.py   the batch on dask.distributed (--cluster): checks, submission, progress, Ctrl-C
tasks.py     what a Dask worker runs: a track's render, a client's publication
inputs.py    the files a track reads, carried as bytes and hashes
store.py     the destination: a local folder or any fsspec URL, objects whole or absent
manifest.py  DIR/manifest.json, typed both ways
publish.py   each client's page, feed, cover and zip
feed.py      the private podcast feed (RSS 2.0, iTunes, Podcasting 2.0)
page.py      the listening page (jinja2, autoescaped)
layout.py    paths inside the output folder
preload.py   what the batch's forkserver imports before forking workers
"""
