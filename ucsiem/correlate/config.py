"""Configuration of the correlation engine (`correlation:` in the agent's config file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class CorrelationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Path] = Field(default_factory=list, description="Sigma rule files and directories (*.yml, *.yaml).")
    lateness_secs: float = Field(
        5.0, ge=0, le=86_400,
        description="How far behind the newest event time an event may arrive and still be counted in order. "
                    "Alerts wait this long (in event time) so that replay and live tailing raise the same ones.")
    max_groups_per_rule: int = Field(100_000, ge=1, description="Groups kept per rule; the oldest is evicted.")
    max_window_events: int = Field(
        10_000, ge=1, description="Events kept per group and window; beyond it the oldest are dropped (counted).")
    max_event_ids: int = Field(100, ge=0, le=10_000, description="Contributing event ids listed in an alert.")
    max_values: int = Field(20, ge=0, le=1_000, description="Distinct values sampled in an alert.")
    max_seen_ids: int = Field(
        131_072, ge=0,
        description="Recent event ids remembered so that an event read twice (after a restart) counts once. Only "
                    "events after the last saved position are read again: this must exceed what is in flight "
                    "(pipeline.max_batches_in_flight x batch_max_records x 2, 8,192 by default), and it is "
                    "saved with every commit, so keep it near that.")
    single_suppression_secs: float = Field(
        300.0, ge=0, description="Suppression window of single-event alerts, unless the rule sets its own (0: none).")
    single_group_by: list[str] = Field(
        default_factory=lambda: ["source.ip"],
        description="Fields that separate single-event alerts of one rule, unless the rule sets its own.")
    idle_expiry_secs: float = Field(
        0.0, ge=0,
        description="Extra event time a group is kept after its window and suppression end (0: drop at once).")
