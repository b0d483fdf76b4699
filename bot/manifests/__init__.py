"""The platforms' app manifests, generated from the command registry (`exportbot manifest`),
and the push of Discord's commands. Not part of any adapter: an adapter is what runs when a
platform calls, and none of this does."""
