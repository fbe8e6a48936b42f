"""The search outbox: every change to an indexed document, written in the changing transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ldnsite.db import Base, utcnow


class SearchOutbox(Base):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_kind: Mapped[str] = mapped_column(String(8))  # page | topic | post
    doc_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
