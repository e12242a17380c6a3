"""An OpenAI-compatible chat-completions endpoint on loopback: scriptable answers, latency and faults.

    async with OpenAIEmulator(models=("sandbox-chat",)) as llm:
        llm.queue(Answer("Hi! Sorry about the delay, ..."))
        llm.rule("Translate", "Ma commande n'est jamais arrivée -> My order never arrived")
        # point the drafts plugin (or the openai client) at llm.api_url with llm.api_key
"""

from socialdesk.sandbox.openai.emulator import Answer, OpenAIEmulator

__all__ = ["Answer", "OpenAIEmulator"]
