"""What a batch's forkserver loads before it forks any worker (see `attune.delivery.process_pool`).

Importing this module imports the renderer and the batch code, and fills the caches each process
would otherwise fill on its first render (`render.warm_up`). The forkserver pays for that once;
every worker forked from it starts with all of it, instead of spending a second or two of CPU on the
same work. Nothing else imports this module: importing it runs ffmpeg.

It never raises: the forkserver would die of anything but an ImportError, taking the batch with it.
A worker imports whatever is missing itself, and a real problem is reported by the render it breaks.
"""

import importlib

try:
    importlib.import_module("attune.delivery.batch")
    importlib.import_module("attune.render").warm_up()
except Exception:
    pass
