"""Media: the files a render writes.

encode.py   ffmpeg encoders fed by a pipe, and each codec's own level change, measured
master.py   one mixing pass into every format's encoder, measured and corrected
measure.py  decode what was written and measure voice, track, true peak and bitrate
tags/       titles, artist, cover and chapters, in each format's own tags (mutagen), a writer per container
cover.py    cover art, checked before any audio work
artwork.py  covers podcast apps accept: drawn when none is given, else letterboxed and scaled (Pillow)
captions.py WebVTT
playlist.py the .m3u8 of a track split into sections

The table of formats is below the settings, in attune/formats.py.
"""
