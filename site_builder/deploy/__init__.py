"""The deploy stage: publishes a site's output folder to Netlify.

Until the digest-deploy client lands (see docs/architecture.md), a run without a token is a
documented no-op, and a run with a token fails loudly rather than pretending to publish.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.config import Environment, Project
from site_builder.errors import SiteBuilderError


@dataclass(frozen=True)
class DeployResult:
    site: str
    deployed: bool
    message: str


def deploy_site(project: Project, env: Environment, site_name: str) -> DeployResult:
    site = project.site(site_name)
    if not env.netlify_auth_token:
        return DeployResult(site_name, False, "NETLIFY_AUTH_TOKEN is not set: nothing deployed")
    if not env.get(site.netlify_site_id_env):
        raise SiteBuilderError(
            f"{site_name}: NETLIFY_AUTH_TOKEN is set but {site.netlify_site_id_env} is not;"
            " set the site id to deploy"
        )
    raise SiteBuilderError(
        f"{site_name}: deploying to Netlify is not available in this version yet;"
        " unset NETLIFY_AUTH_TOKEN or run with --skip-deploy"
    )
