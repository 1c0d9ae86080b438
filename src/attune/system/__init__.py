"""System: files, child processes and ffmpeg.

atomic.py  write to a temporary file beside the target, then rename into place
files.py   a file's sha256, read in blocks
procs.py   start children so that an interrupt cannot orphan them
ffmpeg.py  which ffmpeg runs (PATH, else the imageio-ffmpeg wheel's)
"""
