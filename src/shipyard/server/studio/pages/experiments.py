"""Experiments: placeholder until its pages land."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
