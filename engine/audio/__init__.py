"""Sound inside livecode: General MIDI synthesizers (a SoundFont synth, built-in voices) that
render the network's MIDI messages to stereo blocks, sample-accurately.

Pure of devices: the outputs that play these blocks live are an I/O family in
:mod:`engine.io` (JACK audio, a sound device, a WAV file).
"""
