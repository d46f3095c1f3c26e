"""Channels: transports that turn incoming updates into engine events and replies into output."""
