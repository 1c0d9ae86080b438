"""Media: the files a render writes.

formats.py  the table of formats (light: no numpy), and -o / --format → output files
encode.py   ffmpeg encoders fed by a pipe, and each codec's own level change, measured
master.py   one mixing pass into every format's encoder, measured and corrected
measure.py  decode what was written and measure voice, track and true peak
tags.py     titles, artist, cover and chapters, in each format's own tags (mutagen)
captions.py WebVTT
playlist.py the .m3u8 of a track split into sections
"""
