"""Conversations that arrive as text, not audio: chats and existing transcripts.

Inputs (`callscope analyze` takes them as files or finds them in folders, beside recordings):
- text chats (.txt), "Customer: ..." / "Agent: ..." lines, with or without timestamps (chat_text);
- JSON chat exports (.json): {"messages": [{"role", "name", "text", "timestamp"}]} or a list of
  messages, and Amazon Connect chat transcripts (chat_json);
- Amazon Transcribe and Transcribe Call Analytics output documents (.json), converted by
  transcribe.conversation_from_transcribe, which other commands can use on their own.

All become the same `Conversation` as a recording and get the same enrichment. Their source is a
`TranscriptSource` (source), so the writers can tell: a chat has no loudness, talk time or
non-talk time (absent from the PCA document), an empty RTTM, and a SourceInformation item
"TranscriptSourceInfo" saying its format and whether its times are estimated ("SyntheticTimes":
a chat without timestamps gets times from its message order and length, see timing). Speaker
names map to roles through a RoleMap (roles): Customer/Client/Caller, Agent/Rep/Advisor by default.
What a Call Analytics document computed (sentiment, issues, categories) is kept (source_analytics).

Reading: load.load_transcript; analysis: callscope.analysis.call.analyze_transcript; which files in a
folder are inputs: detect. Nothing is imported here: the writers import `source` and must not
pull in the readers.
"""
