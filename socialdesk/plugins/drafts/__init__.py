"""Drafts from a language model (off by default): an OpenAI-compatible chat-completions endpoint
drafts the public reply, and translates a customer's message the agents cannot read.

A draft only ever lands in the reply form, labelled as a draft and checked like a sent
reply; nothing reaches a platform until the agent presses Send.
"""
