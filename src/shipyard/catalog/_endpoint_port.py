"""The catalog's endpoint methods: part of :class:`~shipyard.catalog.base.Catalog`'s contract,
which states the rules every method follows (thread safety, one transaction, audit, errors)."""

from __future__ import annotations

import abc

from shipyard.entities import Actor, Endpoint
from shipyard.types import JSON

__all__ = ["EndpointPort"]


class EndpointPort(abc.ABC):
    """Endpoints per environment, each a numbered series of revisions that is never edited:
    a change, a guardrail step or a rollback adds the next revision."""

    @abc.abstractmethod
    def create_endpoint(
        self, env: str, name: str, *, config: JSON, state: JSON, actor: Actor
    ) -> Endpoint:
        """Record endpoint ``name`` of ``env`` at revision 1 (action ``create``), audited as
        ``endpoint.create``.

        Raises:
            AlreadyExists: ``env`` has an endpoint with that name.
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def revise_endpoint(
        self,
        env: str,
        name: str,
        *,
        config: JSON,
        state: JSON,
        action: str,
        actor: Actor,
        restores: int | None = None,
        expected_revision: int | None = None,
        details: JSON | None = None,
    ) -> Endpoint:
        """Add the next revision of the endpoint and make it the current one, audited as
        ``endpoint.<action>`` with ``details``.

        With ``expected_revision``, the write happens only while that is still the current
        revision (compare and set): a server advancing a canary never overwrites a user's
        change made meanwhile.

        Raises:
            NotFound: No such endpoint; the message suggests a close name.
            Conflict: The current revision is not ``expected_revision``; nothing was written.
            InvalidInput: A value the catalog cannot store.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_endpoint(self, env: str, name: str, revision: int | None = None) -> Endpoint:
        """The current revision of the endpoint (or revision ``revision``).

        Raises:
            NotFound: No such endpoint or revision; the message suggests a close name.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_endpoints(self, env: str | None = None) -> list[Endpoint]:
        """The current revision of every endpoint (of ``env``), by env then name; [] if none.

        Raises:
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def endpoint_history(self, env: str, name: str) -> list[Endpoint]:
        """Every revision of the endpoint, oldest first.

        Raises:
            NotFound: No such endpoint; the message suggests a close name.
            BackendUnavailable: The database cannot be reached or failed.
        """

    @abc.abstractmethod
    def delete_endpoint(self, env: str, name: str, *, actor: Actor) -> Endpoint:
        """Delete the endpoint and its revisions, audited as ``endpoint.delete``; returns the
        revision that was current. The name can then be used again (from revision 1).

        Raises:
            NotFound: No such endpoint; the message suggests a close name.
            BackendUnavailable: The database cannot be reached or failed.
        """
