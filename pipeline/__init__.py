"""SpeechLedger: commitments (tasks, units, deadlines, targets) from Chinese officials' speeches."""

__version__ = "0.1.0"
