"""Imports every domain's models so that the metadata knows all tables (for Alembic)."""

from consent_service.admin.models import AccessLogEntry, User
from consent_service.analytics.editor_models import (
    Annotation,
    ReportSubscription,
    SentReport,
    ShareLink,
)
from consent_service.analytics.models import (
    AnalyticsEvent,
    DailyAggregate,
    DroppedCount,
    RollupDay,
    VisitorKey,
)
from consent_service.audit.log_models import LogCheckpoint, PendingEntry, TreeNode
from consent_service.audit.models import (
    ChainHead,
    ChainLink,
    Checkpoint,
    ConsentEntry,
    LogEvent,
    PolicyText,
    PurgeRecord,
)
from consent_service.ideas.models import (
    Idea,
    IdeaContact,
    IdeaCounter,
    IdeaEvent,
    IdeaMessage,
    IdeaNote,
    IdeaTag,
)
from consent_service.ideas.records import IdeaDigest, IdeaOutbox, IdeaPurge, TeamMailSettings
from consent_service.ratelimit import RateCounter
from consent_service.scanner.models import ScanJob

__all__ = [
    "AccessLogEntry",
    "AnalyticsEvent",
    "Annotation",
    "ChainHead",
    "ChainLink",
    "Checkpoint",
    "ConsentEntry",
    "DailyAggregate",
    "DroppedCount",
    "Idea",
    "IdeaContact",
    "IdeaCounter",
    "IdeaDigest",
    "IdeaEvent",
    "IdeaMessage",
    "IdeaNote",
    "IdeaOutbox",
    "IdeaPurge",
    "IdeaTag",
    "LogCheckpoint",
    "LogEvent",
    "PendingEntry",
    "PolicyText",
    "PurgeRecord",
    "RateCounter",
    "ReportSubscription",
    "RollupDay",
    "ScanJob",
    "SentReport",
    "ShareLink",
    "TeamMailSettings",
    "TreeNode",
    "User",
    "VisitorKey",
]
