"""Teaching the network: read a groove, fit a network to it, check it through the model.

``groove`` (MIDI to onsets), ``solver`` (one mixed-integer program per voice; needs scipy,
the ``learn`` extra), ``check`` (the session text through the real model). The command
that ties them together is :mod:`livecode.fit`.
"""
