"""Batch judging: the same calls as an online run, sent through OpenAI's Batch API or
Anthropic's Message Batches at half the price, resumable by batch id."""

from judge.batch.clients import BatchClient, BatchError, BatchState, make_batch_client
from judge.batch.core import BatchCounts, BatchLedger, BatchRecord, BatchSettings
from judge.batch.requests import ANTHROPIC_LIMITS, OPENAI_LIMITS, BatchLimits, split
from judge.batch.runner import BatchRunner, BatchSummary, run_batch

__all__ = [
    "ANTHROPIC_LIMITS",
    "OPENAI_LIMITS",
    "BatchClient",
    "BatchCounts",
    "BatchError",
    "BatchLedger",
    "BatchLimits",
    "BatchRecord",
    "BatchRunner",
    "BatchSettings",
    "BatchState",
    "BatchSummary",
    "make_batch_client",
    "run_batch",
    "split",
]
