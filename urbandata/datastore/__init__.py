"""Datastore (L1): the `Datastore` base and its backends, chosen by URL."""

from urbandata.datastore.base import Datastore, StagedTable
from urbandata.datastore.factory import open_datastore

__all__ = ["Datastore", "StagedTable", "open_datastore"]
