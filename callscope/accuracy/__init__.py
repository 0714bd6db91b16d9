"""The accuracy lab: word error rates of speech recognition configurations over audio with human
transcripts, the words they miss, a leaderboard, custom vocabularies and self-heal (docs/ACCURACY.md)."""
