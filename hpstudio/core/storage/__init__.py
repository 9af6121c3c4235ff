"""The history: a written repository contract and its SQLite and in-memory backends."""

from __future__ import annotations

from hpstudio.core.storage.base import HistoryRepository, NewStudy, StudyRow
from hpstudio.core.storage.memory import MemoryHistory
from hpstudio.core.storage.schema import SCHEMA_VERSION
from hpstudio.core.storage.sqlite import DB_ENV_VAR, HistoryStore, default_db_path

__all__ = ["DB_ENV_VAR", "SCHEMA_VERSION", "HistoryRepository", "HistoryStore", "MemoryHistory",
           "NewStudy", "StudyRow", "default_db_path"]
