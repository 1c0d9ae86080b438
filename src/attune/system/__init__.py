"""System: files, child processes, ffmpeg and the folders Attune keeps on this machine.

atomic.py  write to a temporary file beside the target, then rename into place
files.py   a file's sha256, read in blocks
procs.py   start children so that an interrupt cannot orphan them
lock.py    one run at a time per output: a flock on a file naming its holder (pid, start)
space.py   what an output needs, what a folder has, and the one error of a full disk
ffmpeg.py  which ffmpeg runs (PATH, else the imageio-ffmpeg wheel's)
paths.py   the cache folder and the data folder
"""
