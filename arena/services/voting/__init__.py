"""Voting use cases: voters (``voters``), choosing what to show (``matchmaking``), issuing and
reading battles (``battles``) and recording a vote (``recording``)."""
