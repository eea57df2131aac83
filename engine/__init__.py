"""The real-time side of livecode: network model, scheduler, MIDI ports, OSC server."""
