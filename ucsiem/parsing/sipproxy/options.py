"""Parser options (`parser_options:` of an input using `kamailio` or `opensips`): the operator's own xlog words.

Operators write security events with their own conventions, a leading event word and their own key names:

    xlog("L_WARN", "AUTH_FAILED method=$rm src_ip=$si auth_user=$au callid=$ci\\n");

`event_words` maps such words to an action of the shared vocabulary and an outcome; `keys` maps key names to
schema fields. Both add to the built-in key table (`xlogkv.KEYS`: `src_ip`, `srcip`, `si`, `ip`, `user`,
`auth_user`, `fu`, `ru`, `callid`, `ci`, `method`, `rm`, `ua`...), so a line whose word is not configured
still gets its recognised keys mapped. Words and keys are compared case-insensitively, `-` read as `_`.

    parser_options:
      event_words:
        AUTH_FAILED: {action: sip-auth, outcome: failure}
        REG_OK: {action: sip-register, outcome: success}
      keys:
        peer: source.ip
        acct: user.name
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from ucsiem.schema.actions import EventOutcome

from .values import VOCABULARY
from .xlogkv import KEYS, TARGETS, Handler, norm_key


class EventWord(BaseModel):
    """What one leading event word means."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(description="An action of the shared vocabulary (`sip-auth`, `sip-register`, "
                                    "`admin-login`, `flood-block`...), see the action table.")
    outcome: EventOutcome | None = Field(
        None, description="The outcome the word states; none: the line's `outcome=`/status code decides.")

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str) -> str:
        action = value.strip().lower().replace("_", "-")
        if action not in VOCABULARY:
            raise ValueError(f"{value!r} is not an action of the shared vocabulary (for example sip-auth, "
                             "sip-register, admin-login, call-attempt, flood-block; the full list is the action "
                             "table in mappings/fields.md)")
        return action


class XlogOptions(BaseModel):
    """The operator's xlog conventions; the defaults recognise the common key names only."""

    model_config = ConfigDict(extra="forbid")
    event_words: dict[str, EventWord] = Field(
        default_factory=dict,
        description="Leading event word (`AUTH_FAILED`) -> action and outcome. A line made of one word followed "
                    "by key=value pairs is read as an xlog payload whether the word is listed or not; an "
                    "unlisted word is kept in `event.code` with action `diagnostic`.")
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="Key name as the operator writes it -> schema field (`source.ip`, `user.name`, "
                    "`uc.sip.call_id`...). Overrides the built-in key table for that name.")
    _words: dict[str, EventWord] = PrivateAttr(default_factory=dict)
    _keys: dict[str, Handler] = PrivateAttr(default_factory=dict)

    @field_validator("event_words")
    @classmethod
    def _words_valid(cls, value: dict[str, EventWord]) -> dict[str, EventWord]:
        for word in value:
            if not word.strip() or " " in word.strip() or "=" in word:
                raise ValueError(f"event word {word!r} must be one word without blanks or '='")
        return value

    @field_validator("keys")
    @classmethod
    def _targets_valid(cls, value: dict[str, str]) -> dict[str, str]:
        for key, target in value.items():
            if not key.strip() or " " in key.strip() or "=" in key:
                raise ValueError(f"key name {key!r} must be one word without blanks or '='")
            if target not in TARGETS:
                raise ValueError(f"{key}: {target!r} is not a field this parser can fill; one of: "
                                 + ", ".join(sorted(TARGETS)))
        return value

    def model_post_init(self, context: object, /) -> None:
        self._words = {norm_key(w.strip().rstrip(":")): spec for w, spec in self.event_words.items()}
        self._keys = {**KEYS, **{norm_key(k.strip()): TARGETS[t] for k, t in self.keys.items()}}

    def word(self, text: str) -> EventWord | None:
        return self._words.get(norm_key(text.rstrip(":")))

    @property
    def handlers(self) -> dict[str, Handler]:
        return self._keys


DEFAULT = XlogOptions()
