"""System: files, child processes, ffmpeg and the folders Attune keeps on this machine.

atomic.py  write to a temporary file beside the target, then rename into place
files.py   a file's sha256, read in blocks
procs.py   start children so that an interrupt cannot orphan them
ffmpeg.py  which ffmpeg runs (PATH, else the imageio-ffmpeg wheel's)
paths.py   the cache folder and the data folder
"""
