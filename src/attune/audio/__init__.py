"""Audio: everything heard around the voice, and the voice's level.

background.py  what users write as a background → BedSpec (light: no numpy)
beds.py        synthesised beds (drone, binaural, noise) as seamless loops
sound_file.py  sound files as beds
bells.py       the singing-bowl strike
mix.py         the block mixer: speech and bells over a ducked, faded bed; the voice anchor
meter.py       BS.1770 integrated loudness, streaming
peak.py        true peak (BS.1770 Annex 2), streaming
limiter.py     the true-peak limiter
bed_track.py   the bed under a track: which bed plays where, crossfaded where it changes
"""
