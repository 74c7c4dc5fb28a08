"""The ``stagesync`` command line: a client of ``stagesync.api``.

Each command parses its options, calls one library function, renders the result and exits. Data
goes to stdout; messages, prompts and progress go to stderr. Errors are turned into ``Error: ...``
and an exit code in one place, ``_Group.invoke``:

    0  success (for ``diff``, also "no changes")     3  ``diff --exit-code`` found changes
    1  error or refusal                              4  ``push`` finished with operations failed
    2  usage error                                   5  ``check`` found an error-level finding
                                                   130  interrupted

Commands import what they need (the library, progress rendering, reports) when they run, so
``--help`` and the light commands never load the HTTP client, the differ or the templates; help
is plain text (``rich_markup_mode=None``), which spares loading typer's rich help formatting.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from stagesync import __version__, errors
from stagesync.config import DEFAULT_CONFIG_NAME, init_config
from stagesync.errors import StageSyncError
from stagesync.files import write_atomic
from stagesync.model import Plan

if TYPE_CHECKING:
    from stagesync.api import PushResult

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CHANGES = 3
EXIT_PUSH_FAILED = 4
EXIT_POLICY = 5
EXIT_INTERRUPTED = 130


def _without_flag_placeholders(params: list[Any]) -> list[Any]:
    """Flags take no value, so help shows no ``<bool>`` placeholder for them."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_placeholders(super().get_params(ctx))


class _Group(TyperGroup):
    """The one place errors become ``Error: ...`` on stderr and an exit code."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_placeholders(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StageSyncError as err:
            _say(f"Error: {err.message}")
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            _say("Interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None


app = typer.Typer(
    name="stagesync",
    cls=_Group,
    help="git and Terraform for BigCommerce store data: pull, diff, push.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
connect_app = typer.Typer(
    cls=_Group,
    help="Connect an environment to a service.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
emulator_app = typer.Typer(
    cls=_Group, help="A local fake BigCommerce.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(connect_app, name="connect")
app.add_typer(emulator_app, name="emulator")


def _examples(*lines: str) -> str:
    """An ``Examples:`` block for a command's ``--help`` (one command per line)."""
    return "Examples:\n" + "\n".join(f"  {line}" for line in lines)


EXAMPLES = {
    "init": _examples("stagesync init", "stagesync init --path config/stagesync.toml --force"),
    "status": _examples("stagesync status", "stagesync status --offline"),
    "b2b": _examples("stagesync connect b2b staging"),
    "pull": _examples(
        "stagesync pull staging",
        "stagesync pull production --kinds products,brands --out snapshots/prod-catalogue",
        "stagesync pull staging --redact --stock",
    ),
    "diff": _examples(
        "stagesync diff snapshots/staging snapshots/production --out plan.json --html plan.html",
        "stagesync diff snapshots/staging snapshots/production --only 'products:SHOE-*'",
        "stagesync diff snapshots/staging snapshots/production --only promotions:X --deps missing",
        "stagesync diff snapshots/staging snapshots/production --markdown plan.md --exit-code",
        "stagesync diff snapshots/staging snapshots/production --resolve 'products:SHOE-*=source'",
    ),
    "drift": _examples(
        "stagesync drift production",
        "stagesync drift production --format json --markdown drift.md --html drift.html",
    ),
    "probe": _examples(
        "stagesync probe sandbox",
        "stagesync probe production --format json --markdown probe.md",
        "stagesync probe sandbox --write",
        "stagesync probe sandbox --resume",
    ),
    "show": _examples("stagesync show plan.json", "stagesync show plan.json --html plan.html"),
    "check": _examples(
        "stagesync check plan.json",
        "stagesync check plan.json --policy ci-policy.toml --format json",
    ),
    "push": _examples(
        "stagesync push --plan plan.json",
        "stagesync push --plan plan.json --dry-run",
        "stagesync push --plan plan.json --yes --verify",
        "stagesync push --plan plan.json --resume",
        'stagesync push --plan plan.json --override price-change --reason "clearance sale"',
    ),
    "serve": _examples(
        "stagesync emulator serve --seed demo",
        "stagesync emulator serve --port 9000 --store abc123=secret --fault-rate 0.1",
    ),
    "textconv": _examples(
        "stagesync textconv snapshots/production/products/SKU-1~1a2b3c4d.json",
        "git config diff.stagesync.textconv 'stagesync textconv'",
    ),
    "rehearse": _examples(
        "stagesync rehearse --plan plan.json --snapshot snapshots/production",
        "stagesync rehearse --plan plan.json --snapshot snapshots/production "
        "--source snapshots/staging --order-status keep",
    ),
    "demo": _examples("stagesync demo", "stagesync demo --dir demo-run"),
}
"""What each command's ``--help`` ends with."""


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class OrderStatus(StrEnum):
    pending = "pending"
    keep = "keep"


class Deps(StrEnum):
    missing = "missing"
    changed = "changed"


class Seed(StrEnum):
    demo = "demo"
    empty = "empty"


# --- shared options --------------------------------------------------------------------------

KindsOption = Annotated[
    str | None,
    typer.Option(
        "--kinds",
        metavar="K,..",
        help='Only these kinds, comma-separated ("products,brands", "Customer Groups").',
    ),
]
HtmlOption = Annotated[
    Path | None, typer.Option("--html", metavar="FILE", help="Also write an HTML report.")
]
MarkdownOption = Annotated[
    Path | None,
    typer.Option(
        "--markdown", metavar="FILE", help="Also write a Markdown summary for a pull request."
    ),
]
ConcurrencyOption = Annotated[
    int,
    typer.Option(
        "--concurrency", min=1, metavar="N", help="Operations written at once (default 4)."
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="What to print on stdout: the text report or the plan JSON."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stagesync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="PATH",
            help="The configuration file (default: $STAGESYNC_CONFIG, else ./stagesync.toml).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """git and Terraform for BigCommerce store data: pull ID-free snapshots, diff them into a
    plan, push exactly that plan."""
    ctx.obj = config


# --- commands --------------------------------------------------------------------------------


@app.command(cls=_Command, epilog=EXAMPLES["init"])
def init(
    path: Annotated[
        Path, typer.Option("--path", help="Where to write the configuration file.")
    ] = Path(DEFAULT_CONFIG_NAME),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented stagesync.toml."""
    written = init_config(path, force=force)
    _say(f"Wrote {written}. Edit its environments, then export each access_token_env variable.")


@app.command(cls=_Command, epilog=EXAMPLES["status"])
def status(
    ctx: typer.Context,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Send nothing: show the B2B connection as recorded, check no store.",
        ),
    ] = False,
) -> None:
    """List environments: store, API URL, token variable, B2B connection, reachability."""
    from stagesync import api

    statuses = api.status(ctx.obj, offline=offline)
    if not statuses:
        _say("No environments configured. Add [environments.NAME] tables to stagesync.toml.")
        return
    rows = [("ENVIRONMENT", "STORE", "API URL", "TOKEN", "B2B", "REACHABLE")]
    for s in statuses:
        token = f"{s.token_env} {'set' if s.token_set else 'not set'}"
        reachable = {True: "yes", False: "no", None: "-"}[s.reachable]
        if s.detail:
            reachable += f" ({s.detail.rstrip('.')})"
        rows.append((s.name, s.store_hash, s.api_url, token, s.b2b, reachable))
    typer.echo(_columns(rows))
    for s in statuses:
        for hint in s.hints:
            _say(f"{s.name}: {hint}")


@connect_app.command("b2b", cls=_Command, epilog=EXAMPLES["b2b"])
def connect_b2b(
    ctx: typer.Context,
    environment: Annotated[str, typer.Argument(metavar="ENV", help="The environment.")],
) -> None:
    """Verify and store an environment's B2B Edition credentials."""
    from stagesync import api

    result = api.connect_b2b(environment, config_path=ctx.obj)
    who = f" as {result.email}" if result.email else ""
    connected = typer.style("Connected", fg=typer.colors.GREEN, bold=True)
    typer.echo(f"{connected}: environment '{result.environment}' to B2B Edition{who}.")
    _say(
        f"Verified with {result.auth} auth ({result.companies} companies). "
        f"Connection recorded in {result.credentials} (readable only by you)."
    )


@app.command(cls=_Command, epilog=EXAMPLES["pull"])
def pull(
    ctx: typer.Context,
    environment: Annotated[str, typer.Argument(metavar="ENV", help="The environment to pull.")],
    kinds: KindsOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help="Snapshot folder (default: snapshots/ENV)."),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace personal data (names, emails, addresses, phones) with stable pseudonyms.",
        ),
    ] = False,
    stock: Annotated[
        bool | None,
        typer.Option(
            "--stock/--no-stock",
            help="Record inventory levels, so a diff compares and a push migrates stock "
            "(default: the environment's stock setting, off unless set).",
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Read everything, even what the snapshot already in the folder shows has not "
            "changed since it was pulled.",
        ),
    ] = False,
) -> None:
    """Pull an environment's store data into an ID-free snapshot folder."""
    from stagesync import api
    from stagesync.progress import ProgressRenderer

    selected = _kinds(kinds)
    with ProgressRenderer() as progress:
        result = api.pull(
            environment,
            config_path=ctx.obj,
            kinds=selected,
            out=out,
            redact=redact,
            stock=stock,
            full=full,
            progress=progress,
        )
    from stagesync.ports import describe_retries

    total = sum(result.counts.values())
    retried = describe_retries(result.retries)
    for note in result.notes:
        _say(note)
    _say(
        f"Pulled {_plural(total, 'record')} from {result.environment} (store {result.store_hash}) "
        f"into {result.directory} in {_plural(result.requests, 'request')}"
        + (f", {retried}" if retried else "")
    )


@app.command(cls=_Command, epilog=EXAMPLES["diff"])
def diff(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(metavar="SOURCE_DIR", help="Snapshot to copy from.")],
    destination: Annotated[
        Path, typer.Argument(metavar="DEST_DIR", help="Snapshot of the store to change.")
    ],
    kinds: KindsOption = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="KIND:KEY,..",
            help="Only these entities, globs on keys allowed (products:SHOE-*,brands:Acme).",
        ),
    ] = None,
    no_deps: Annotated[
        bool,
        typer.Option(
            "--no-deps",
            help="Do not bring along referenced entities; a reference the destination lacks is "
            "then an error.",
        ),
    ] = False,
    deps: Annotated[
        Deps | None,
        typer.Option(
            "--deps",
            help="Which referenced entities to bring along: changed (missing or different on "
            "the destination, the default) or missing (only those it lacks; the plan lists the "
            "differing ones it leaves alone).",
        ),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Also delete selected entities the destination has and the source lacks.",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="PLAN", help="Write the plan file here.")
    ] = None,
    html: HtmlOption = None,
    markdown: MarkdownOption = None,
    output_format: FormatOption = OutputFormat.text,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit 3 when the plan has operations or unresolved conflicts, 0 otherwise.",
        ),
    ] = False,
    base: Annotated[
        Path | None,
        typer.Option(
            "--base",
            metavar="DIR",
            help="Merge three ways against this base (default: the destination's recorded "
            "base, snapshots/.bases/ENV, when there is one).",
        ),
    ] = None,
    no_base: Annotated[
        bool, typer.Option("--no-base", help="A two-way plan: ignore any recorded base.")
    ] = False,
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            "--resolve",
            metavar="KIND:GLOB=SIDE",
            help="Resolve the conflicts of matching entities for source or destination "
            "(products:SHOE-*=source); repeatable.",
        ),
    ] = None,
) -> None:
    """Compare two snapshots: the plan that makes DEST_DIR look like SOURCE_DIR."""
    from stagesync import api

    if no_deps and deps is not None:
        raise typer.BadParameter(
            "--deps and --no-deps cannot be given together", param_hint="--deps"
        )
    if base is not None and no_base:
        raise typer.BadParameter("--base and --no-base exclude each other", param_hint="--base")
    plan = api.diff(
        source,
        destination,
        kinds=_kinds(kinds),
        only=_only(only),
        deps=not no_deps,
        missing_only=deps is Deps.missing,
        prune=prune,
        config_path=ctx.obj,
        base=base,
        use_base=not no_base,
        resolve=resolve or (),
    )
    if out is not None:
        api.save_plan(plan, out)
        _say(f"Wrote plan to {out}")
    _render(plan, html=html, markdown=markdown, plan_path=out, output_format=output_format)
    if exit_code and (not plan.empty or plan.unresolved):
        raise typer.Exit(EXIT_CHANGES)


@app.command(cls=_Command, epilog=EXAMPLES["drift"])
def drift(
    ctx: typer.Context,
    environment: Annotated[str, typer.Argument(metavar="ENV", help="Environment to read.")],
    base: Annotated[
        Path | None,
        typer.Option(
            "--base", metavar="DIR", help="Compare with this snapshot (default: ENV's base)."
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="What to print on stdout: the drift as text or JSON."),
    ] = OutputFormat.text,
    markdown: MarkdownOption = None,
    html: HtmlOption = None,
) -> None:
    """List what changed on ENV's store since its base; exit 3 when something did."""
    from stagesync import api
    from stagesync.files import write_atomic_chunks
    from stagesync.progress import ProgressRenderer
    from stagesync.report import drift as report

    with ProgressRenderer() as progress:
        found = api.drift(environment, config_path=ctx.obj, base=base, progress=progress)
    if output_format is OutputFormat.json:
        typer.echo(report.drift_to_json(found).decode("utf-8"), nl=False)
    else:
        typer.echo(report.render_drift_text(found), nl=False)
    for path, content in (
        (markdown, report.render_drift_markdown),
        (html, report.render_drift_html),
    ):
        if path is not None:
            write_atomic_chunks(path, [content(found).encode("utf-8")])
            _say(f"Wrote {path}")
    _say(f"Read {environment} in {_plural(found.requests, 'request')}.")
    if found.drifted:
        raise typer.Exit(EXIT_CHANGES)


@app.command(cls=_Command, epilog=EXAMPLES["probe"])
def probe(
    ctx: typer.Context,
    environment: Annotated[str, typer.Argument(metavar="ENV", help="The environment to probe.")],
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", metavar="FILE", help="Also write the report for an issue."),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="What to print on stdout: the text report or its JSON."),
    ] = OutputFormat.text,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Also check what needs writes, creating and deleting stagesync-probe- entities "
            "(sandbox stores only).",
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Only delete what a stopped --write run left behind."),
    ] = False,
) -> None:
    """Check, with reads only, that the store behaves as stagesync assumes (exit 3: one differs)."""
    import orjson

    from stagesync import api
    from stagesync import probe as probing
    from stagesync.files import write_atomic_chunks

    if resume:
        if write:
            raise errors.UsageError("--resume only cleans up; run --write again after it.")
        gone = api.probe_resume(environment, config_path=ctx.obj)
        noun = "entity" if gone == 1 else "entities"
        _say(f"Deleted {gone} {noun} an earlier probe of {environment} left.")
        return
    what = "reads, then writes to entities it deletes again" if write else "reads only"

    def announce(budget: int) -> None:
        _say(f"Probing {environment} with at most {_plural(budget, 'request')} ({what}).")

    run = api.probe_write if write else api.probe
    report = run(environment, config_path=ctx.obj, announce=announce)
    if output_format is OutputFormat.json:
        options = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        typer.echo(orjson.dumps(probing.as_json(report), option=options).decode("utf-8"), nl=False)
    else:
        typer.echo(probing.as_text(report), nl=False)
    if markdown is not None:
        write_atomic_chunks(markdown, [probing.as_markdown(report).encode("utf-8")])
        _say(f"Wrote {markdown}")
    if report.differs:
        raise typer.Exit(EXIT_CHANGES)


@app.command(cls=_Command, epilog=EXAMPLES["show"])
def show(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="A plan file (plan.json).")],
    html: HtmlOption = None,
    markdown: MarkdownOption = None,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Print a saved plan (and write its reports)."""
    from stagesync import api

    plan = api.load_plan(plan_path)
    _render(plan, html=html, markdown=markdown, plan_path=plan_path, output_format=output_format)


@app.command(cls=_Command, epilog=EXAMPLES["check"])
def check(
    ctx: typer.Context,
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="A plan file (plan.json).")],
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            metavar="FILE",
            help="Policy settings to use instead of stagesync.toml's [policy] tables.",
        ),
    ] = None,
    destination: Annotated[
        Path | None,
        typer.Option(
            "--destination",
            metavar="DIR",
            help="The destination snapshot the plan was made from (default: snapshots/ENV).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="What to print on stdout: the findings as text or JSON."),
    ] = OutputFormat.text,
) -> None:
    """Evaluate the policy rules over a plan; exit 5 on an error-level finding."""
    from stagesync import api
    from stagesync.report.findings import check_to_json, counts_line, render_check

    result = api.check_plan(
        plan_path, policy_file=policy, destination=destination, config_path=ctx.obj
    )
    if output_format is OutputFormat.json:
        typer.echo(check_to_json(result).decode("utf-8"), nl=False)
    else:
        typer.echo(render_check(result), nl=False)
    if result.failed:
        _say(
            f"Policy check failed ({counts_line(result.findings)}): fix the plan, or accept "
            "each error-level finding on the record as its Override line says."
        )
        raise typer.Exit(EXIT_POLICY)


@app.command(cls=_Command, epilog=EXAMPLES["push"])
def push(
    ctx: typer.Context,
    plan_path: Annotated[
        Path, typer.Option("--plan", metavar="PLAN", help="The plan file to apply.")
    ],
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="ENV", help="Destination environment (default: the plan's)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Make every check and print what would be done; write nothing."
        ),
    ] = False,
    allow_drift: Annotated[
        bool,
        typer.Option(
            "--allow-drift",
            help="Skip (and report) only the operations whose entity changed since the plan "
            "was made, instead of refusing the whole plan.",
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue a stopped push of this plan from its journal."),
    ] = False,
    force_unlock: Annotated[
        bool,
        typer.Option(
            "--force-unlock",
            help="Break the lock a push that no longer runs left behind, then push.",
        ),
    ] = False,
    concurrency: ConcurrencyOption = 4,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Re-read every touched entity afterwards and compare."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    activate: Annotated[
        str | None,
        typer.Option(
            "--activate",
            metavar="THEME[:VARIATION]",
            help="Then make this theme (and variation) active, if every operation applied.",
        ),
    ] = None,
    order_status: Annotated[
        OrderStatus,
        typer.Option(
            "--order-status",
            help="Status of created orders: pending (the default) or keep the source's.",
        ),
    ] = OrderStatus.pending,
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            metavar="RULE_ID",
            help="Accept this policy rule's error-level findings (repeatable; each needs a "
            "--reason).",
        ),
    ] = None,
    reason: Annotated[
        list[str] | None,
        typer.Option(
            "--reason", metavar="TEXT", help="Why, recorded with the --override it follows."
        ),
    ] = None,
) -> None:
    """Apply exactly a saved plan to its destination, or refuse if the store drifted."""
    from stagesync import api
    from stagesync.progress import ProgressRenderer

    overrides = _overrides(override or [], reason or [])
    if not yes and not dry_run and not resume and _interactive():
        _confirm_push(api.load_plan(plan_path), to)
    with ProgressRenderer() as progress:
        result = api.push(
            plan_path,
            config_path=ctx.obj,
            to=to,
            dry_run=dry_run,
            activate=activate,
            resume=resume,
            force_unlock=force_unlock,
            concurrency=concurrency,
            verify=verify,
            order_status=order_status.value,
            allow_drift=allow_drift,
            overrides=overrides,
            progress=progress,
        )
    _say_push(result)
    if not result.ok:
        raise typer.Exit(EXIT_PUSH_FAILED)


@app.command(cls=_Command, epilog=EXAMPLES["rehearse"])
def rehearse(
    ctx: typer.Context,
    plan_path: Annotated[
        Path, typer.Option("--plan", metavar="PLAN", help="The plan file to rehearse.")
    ],
    snapshot: Annotated[
        Path,
        typer.Option(
            "--snapshot",
            metavar="DIR",
            help="The destination snapshot the plan was made from: the replica is loaded from it.",
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            metavar="DIR",
            help="The source snapshot the plan was made from (default: snapshots/SOURCE_ENV, "
            "if it is that snapshot).",
        ),
    ] = None,
    concurrency: ConcurrencyOption = 4,
    verify: Annotated[bool, typer.Option("--verify", help="As for push.")] = False,
    order_status: Annotated[
        OrderStatus, typer.Option("--order-status", help="As for push.")
    ] = OrderStatus.pending,
) -> None:
    """Run the real push of a plan against an emulated replica of its destination."""
    from stagesync import api
    from stagesync.progress import ProgressRenderer

    with ProgressRenderer() as progress:
        result = api.rehearse(
            plan_path,
            snapshot,
            source=source,
            config_path=ctx.obj,
            concurrency=concurrency,
            verify=verify,
            order_status=order_status.value,
            progress=progress,
        )
    pushed = result.push
    for failed in result.rejected:
        _say(f"  rejected {failed.operation.describe()}: {failed.error}")
    for skipped in result.skipped:
        _say(f"  skipped {skipped.operation.describe()}: {skipped.error}")
    done = sum(1 for r in pushed.results if r.status == "done")
    _say(
        f"Rehearsed on a replica of {pushed.destination} loaded from {result.snapshot}: applied "
        f"{done} of {_plural(len(pushed.results), 'operation')}, "
        f"{len(result.rejected)} rejected, {len(result.skipped)} skipped."
    )
    for line in result.differences:
        _say(f"  differs from the source: {line}")
    _say(
        "Converges: the plan's entities now equal the source."
        if result.converged
        else f"Does not converge: {len(result.differences)} of its entities differ."
    )
    for failed in result.rollback_failed:
        _say(f"  rollback {failed.status} {failed.operation.describe()}: {failed.error}")
    for line in result.rollback_differences:
        _say(f"  differs after the rollback: {line}")
    _say(
        f"Rolls back: {_plural(result.rollback_operations, 'operation')} restore {result.snapshot}."
        if result.rolled_back
        else "Does not roll back cleanly."
    )
    _say(
        f"Requests: {pushed.requests} used, {pushed.plan.estimated_requests} estimated; "
        f"{result.duration_at_quota:.0f} s at the destination's quota "
        f"({pushed.plan.quota} per {pushed.plan.window_ms / 1000:g} s). Nothing was sent to "
        "the store."
    )
    _say(f"Report: {result.report}")
    _say(f"Result: {result.result_json}")
    if not result.ok:
        raise typer.Exit(EXIT_PUSH_FAILED)


@emulator_app.command("serve", cls=_Command, epilog=EXAMPLES["serve"])
def emulator_serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8765,
    store: Annotated[
        list[str] | None,
        typer.Option("--store", metavar="HASH=TOKEN", help="A store and its token (repeatable)."),
    ] = None,
    seed: Annotated[
        Seed, typer.Option("--seed", help="demo: staging and production stores with data.")
    ] = Seed.empty,
    latency_ms: Annotated[
        int, typer.Option("--latency-ms", min=0, help="Added to every request.")
    ] = 0,
    fault_rate: Annotated[
        float,
        typer.Option("--fault-rate", min=0.0, max=1.0, help="Share of requests that fail (0-1)."),
    ] = 0.0,
    quota: Annotated[
        int, typer.Option("--quota", min=0, help="Requests per window per store; 0: unlimited.")
    ] = 0,
    window_ms: Annotated[
        int, typer.Option("--window-ms", min=1, help="Rate-limit window.")
    ] = 30000,
    b2b_user: Annotated[
        list[str] | None,
        typer.Option(
            "--b2b-user",
            metavar="HASH=EMAIL:PASSWORD",
            help="Turn on B2B Edition for a store with this admin user (repeatable).",
        ),
    ] = None,
    load: Annotated[
        list[str] | None,
        typer.Option(
            "--load",
            metavar="HASH=SNAPSHOT_DIR",
            help="Load a pulled snapshot into store HASH (declared with token HASH-token if "
            "--store does not declare it), as stagesync's own push writes it (repeatable).",
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            "--tls-cert",
            metavar="PEM",
            help="Serve HTTPS with this certificate (with --tls-key), for clients that only "
            "speak HTTPS.",
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option("--tls-key", metavar="PEM", help="The private key of --tls-cert."),
    ] = None,
) -> None:
    """Serve the emulator over HTTP until interrupted."""
    from stagesync import emulator
    from stagesync.emulator.load import load_snapshot, parse_load_arg

    try:
        stores = dict(emulator.parse_store_arg(arg) for arg in store or ())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--store") from None
    try:
        b2b_users = [emulator.parse_b2b_user_arg(arg) for arg in b2b_user or ()]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--b2b-user") from None
    fake = emulator.Emulator(
        stores,
        seed=seed.value,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        quota=quota,
        window_ms=window_ms,
    )
    for store_hash, email, password in b2b_users:
        if store_hash not in fake.stores:
            raise typer.BadParameter(
                f"store {store_hash!r} is not declared; add --store {store_hash}=TOKEN",
                param_hint="--b2b-user",
            )
        fake.add_b2b_user(store_hash, email, password)
    try:
        loads = [parse_load_arg(arg) for arg in load or ()]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--load") from None
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("give both --tls-cert and --tls-key", param_hint="--tls-cert")
    tls = (str(tls_cert), str(tls_key)) if tls_cert and tls_key else None
    for given in (tls_cert, tls_key):
        if given is not None and not given.is_file():
            raise typer.BadParameter(f"{given} is not a file", param_hint="--tls-cert/--tls-key")
    from stagesync.emulator.server import listen

    try:
        sock = listen(host, port)
    except OSError as exc:
        raise StageSyncError(
            f"the emulator cannot listen on {host}:{port}: {exc.strerror or exc}. Another "
            "program (perhaps another emulator) uses that port: stop it, or choose another "
            "with --port."
        ) from None
    for store_hash, folder in loads:
        loaded = load_snapshot(fake, store_hash, folder)
        _say(
            f"Loaded {folder} into store {store_hash}: {_plural(loaded.records, 'record')} "
            f"({_plural(loaded.operations, 'operation')}, {_plural(loaded.requests, 'request')})."
        )
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    _say(f"stagesync emulator on {url} (seed: {seed.value}). Stop it with Ctrl-C.")
    for store_hash, served in sorted(fake.stores.items()):
        _say(f"  store {store_hash}: token {served.token}  ({url}/stores/{store_hash}/v3/...)")
    for store_hash, email, _ in b2b_users:
        _say(f"  B2B Edition on {store_hash}: admin {email}  ({url}/api/v3/io/...)")
    if not fake.stores:
        _say("  no stores: declare some with --store HASH=TOKEN, or use --seed demo")
    emulator.serve(fake, host, port, sock, tls)


@app.command(cls=_Command, epilog=EXAMPLES["demo"])
def demo(
    directory: Annotated[
        Path,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="Where to put the configuration, snapshots, plan and reports.",
        ),
    ] = Path("stagesync-demo"),
) -> None:
    """Run emulator + pull + diff + report + push + verify on a local port."""
    from stagesync import demo as demo_module
    from stagesync.progress import ProgressRenderer

    with ProgressRenderer() as progress:
        result = demo_module.run(directory, progress)
    for line in result.lines:
        typer.echo(line)
    if not result.ok:
        raise StageSyncError(f"the demo did not converge; its files are in {directory}.")


@app.command(cls=_Command, epilog=EXAMPLES["textconv"])
def textconv(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A snapshot file (git passes a copy of one).")
    ],
) -> None:
    """Print a snapshot file one field per line, for `git diff` (see docs/git-workflow.md)."""
    import sys

    import orjson

    from stagesync.diff import field_lines

    try:
        content = file.read_bytes()
    except OSError as err:
        raise StageSyncError(f"cannot read {file}: {err.strerror}.") from None
    try:
        record = orjson.loads(content)
    except orjson.JSONDecodeError:
        sys.stdout.buffer.write(content)  # not JSON (a theme asset): shown as it is
        return
    if isinstance(record, dict) and isinstance(record.get("record"), dict) and "kind" in record:
        # A snapshot record file: its entity first, then its fields as a plan's changes name them.
        header = f"{record['kind']} {record.get('key')}"
        typer.echo("\n".join([header, *field_lines(record["record"])]))
        return
    typer.echo("\n".join(field_lines(record)))


def main(argv: Sequence[str] | None = None) -> None:
    """The ``stagesync`` console script."""
    app(args=list(argv) if argv is not None else None, prog_name="stagesync")


# --- helpers ---------------------------------------------------------------------------------


def _say(message: str) -> None:
    """A message for the person at the terminal: stderr, never stdout."""
    typer.echo(message, err=True)


def _kinds(value: str | None) -> list[str] | None:
    if value is None:
        return None
    from stagesync.entities import resolve_kinds

    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise typer.BadParameter("name at least one kind", param_hint="--kinds")
    return resolve_kinds(names)


def _only(value: str | None) -> list[str] | None:
    if value is None:
        return None
    patterns = [item.strip() for item in value.split(",") if item.strip()]
    if not patterns:
        raise typer.BadParameter("name at least one KIND:KEY", param_hint="--only")
    return patterns


def _render(
    plan: Plan,
    *,
    html: Path | None,
    markdown: Path | None,
    plan_path: Path | None,
    output_format: OutputFormat,
) -> None:
    if html is not None:
        from stagesync.report.html import render_html

        write_atomic(html, render_html(plan))
        _say(f"Wrote HTML report to {html}")
    if markdown is not None:
        from stagesync.report.markdown import render_markdown

        if html is not None:
            full = str(html)
        elif plan_path is not None:
            full = f"stagesync show {plan_path} --html report.html"
        else:
            full = "re-run stagesync diff with --out plan.json --html report.html"
        write_atomic(markdown, render_markdown(plan, full_report=full))
        _say(f"Wrote Markdown summary to {markdown}")
    if output_format is OutputFormat.json:
        from stagesync.planfile import plan_to_json

        typer.echo(plan_to_json(plan).decode("utf-8"), nl=False)
    else:
        from stagesync.report.text import render_text

        typer.echo(render_text(plan), nl=False)


def _interactive() -> bool:
    """Whether a person can answer a prompt: stdin and stderr are terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _confirm_push(plan: Plan, to: str | None) -> None:
    if plan.empty:
        return
    target = to or plan.destination.environment or "the destination"
    store = f" (store {plan.destination.store_hash})" if plan.destination.store_hash else ""
    from stagesync import api

    for notice in api.push_notices(plan):
        _say(f"Note: {notice}")
    question = f"Apply {_plural(len(plan.operations), 'operation')} to {target}{store}?"
    if not typer.confirm(question, default=False, err=True):
        _say("Push cancelled; nothing was applied.")
        raise typer.Exit(EXIT_ERROR)


def _say_push(result: PushResult) -> None:
    from stagesync.report.text import operation_line

    total = len(result.results)
    for drifted in result.drifted:
        _say(f"  drifted, skipped {drifted.operation.describe()}: {drifted.error}")
    for notice in result.notices:
        _say(f"Note: {notice}")
    accepted = dict(result.overrides)
    for finding in result.findings:
        why = f' (overridden: "{accepted[finding.rule]}")' if finding.rule in accepted else ""
        _say(f"Policy {finding.severity}: {finding.rule} {finding.entity}: {finding.message}{why}")
    for failed in result.failed:
        reason = f": {failed.error}" if failed.error else ""
        _say(f"  {failed.status} {failed.operation.describe()}{reason}")
    requests = f"{_plural(result.requests, 'request')}, estimated {result.plan.estimated_requests}"
    if result.dry_run:
        planned = [r for r in result.results if r.status == "planned"]
        for item in planned:
            typer.echo(f"would apply: {operation_line(item.operation)}")
        _say(
            f"Dry run: {_plural(len(planned), 'operation')} would be applied to "
            f"{result.destination}; nothing was written "
            f"({_plural(result.requests, 'request')} to check; the push is estimated at "
            f"{result.plan.estimated_requests})."
        )
    else:
        from stagesync.ports import describe_retries

        done = sum(1 for r in result.results if r.status == "done")
        retried = describe_retries(result.retries)
        if not retried and result.throttled:
            retried = _plural(result.throttled, "429 response")
        _say(
            f"Applied {done} of {_plural(total, 'operation')} to {result.destination} "
            f"in {requests}{f'; {retried}' if retried else ''}."
        )
        if result.drifted:
            _say(
                f"{len(result.drifted)} skipped because the destination changed (--allow-drift); "
                "pull it again and re-run stagesync diff to plan them."
            )
        if result.failed:
            _say(
                f"{len(result.failed)} failed or skipped; fix the cause, then push "
                "again with --resume (or re-plan)."
            )
    if result.activated is not None:
        _say(f"Activated theme {result.activated}.")
    for label, path in (
        ("Report", result.report),
        ("Result", result.result_json),
        ("Rollback plan", result.rollback),
    ):
        if path is not None:
            _say(f"{label}: {path}")


def _overrides(rules: list[str], reasons: list[str]) -> list[tuple[str, str]]:
    """``--override RULE --reason TEXT`` pairs, in the order given."""
    from stagesync.policy.rules import BY_ID

    for rule in rules:
        if rule not in BY_ID:
            raise typer.BadParameter(
                f"no policy rule is called {rule!r}; rules: {', '.join(BY_ID)}",
                param_hint="--override",
            )
    if len(rules) != len(reasons) or any(not r.strip() for r in reasons):
        raise typer.BadParameter(
            "give each --override RULE_ID one --reason TEXT saying why (it is recorded in the "
            "journal and the result)",
            param_hint="--reason",
        )
    return list(zip(rules, reasons, strict=True))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _columns(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
