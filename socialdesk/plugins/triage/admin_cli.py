"""``socialdesk triage train | status | rollback``: building, inspecting and rolling back
the learned triage model from the command line."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk.core.errors import DeskError

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.config import AppConfig
    from socialdesk.core.plugin_catalog import PluginCatalog

# In development the public data sits next to the repository (see its README.md).
DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def add_parser(commands: Any) -> None:
    triage = commands.add_parser("triage", help="the learned triage model: train, status, rollback")
    actions = triage.add_subparsers(dest="triage_command", metavar="ACTION", required=True)
    train = actions.add_parser("train", help="train the base model (or, with --from-desk, this desk's own)")
    train.add_argument("--data", type=Path, default=DEFAULT_DATA,
                       help=f"folder of the public labelled data (default: {DEFAULT_DATA})")
    train.add_argument("--seed", type=int, default=13, help="random seed (same data and seed: same model)")
    train.add_argument("--out", type=Path, help="base model file to write (default: the one shipped in the package)")
    train.add_argument("--from-desk", action="store_true",
                       help="fit a desk model from the data plus the agents' corrections; install it in the "
                            "database only if it beats the live model on held-out corrections")
    train.add_argument("--min-corrections", type=int, default=20, help="with --from-desk (default: 20)")
    actions.add_parser("status", help="which model is live, its figures, how many corrections it learned from")
    actions.add_parser("rollback", help="put the previous desk model (or the shipped base model) back in place")


def _train_base(args: argparse.Namespace) -> int:
    from socialdesk.plugins.triage.data_card import write_data_card
    from socialdesk.plugins.triage.model_file import BASE_DATA_CARD_PATH, BASE_MODEL_PATH
    from socialdesk.plugins.triage.training import TrainingUnavailable, train_base

    if not args.data.is_dir():
        raise DeskError(f"--data {args.data}: no such folder; point it at the public labelled data")
    try:
        model, _ = train_base(args.data, seed=args.seed)
    except (TrainingUnavailable, FileNotFoundError) as exc:
        raise DeskError(str(exc)) from None
    out: Path = args.out or BASE_MODEL_PATH
    model.save(out)
    card = out.with_name(out.stem + ".card.md") if args.out else BASE_DATA_CARD_PATH
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    write_data_card(model, card, out.name, digest, out.stat().st_size)
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB, {len(model.vocabulary):,} features, sha256 {digest[:16]}…")
    print(f"{card}: data card (sources, licences, sizes, held-out figures)")
    return 0


async def _with_app(config: AppConfig, catalog: PluginCatalog, work: Any) -> int:
    from socialdesk.core.app import DeskApp
    from socialdesk.core.store.migrate import current_revision, head_revision

    app = DeskApp.build(config, catalog)
    try:
        current, head = await current_revision(app.database), head_revision()
        if current != head:
            raise DeskError(f"the database {app.database.safe_url()} is at schema revision {current or 'none'}, "
                            f"this version needs {head}: run `socialdesk db upgrade`")
        return int(await work(app))
    finally:
        await app.close()


async def _train_desk(app: DeskApp, args: argparse.Namespace) -> int:
    from socialdesk.plugins.triage.desk_training import train_from_desk
    from socialdesk.plugins.triage.training import TrainingUnavailable

    try:
        outcome = await train_from_desk(app, args.data, seed=args.seed, min_corrections=args.min_corrections)
    except (TrainingUnavailable, FileNotFoundError) as exc:
        raise DeskError(str(exc)) from None
    print(outcome.message)
    return 0


async def _status(app: DeskApp) -> int:
    from socialdesk.plugins.triage import desk_models
    from socialdesk.plugins.triage.desk_training import corrections
    from socialdesk.plugins.triage.learned import PLUGIN_NAME, base_model
    from socialdesk.plugins.triage.model_file import BASE_MODEL_PATH, ModelFileError

    settings = app.settings(PLUGIN_NAME)
    found = await corrections(app.database)
    rows = await desk_models.history(app.database)
    live = next((r for r in rows if r.status == desk_models.LIVE), None)
    if live is not None:
        print(f"live: desk model {live.id} ({live.name}), installed {live.created_at:%Y-%m-%d %H:%M} UTC, "
              f"learned from {live.corrections} corrections")
        print("held-out corrections: " + json.dumps(live.figures, sort_keys=True))
    else:
        path = settings.model_path or BASE_MODEL_PATH
        try:
            model = base_model(settings.model_path)
            print(f"live: the base model {path} (trained {model.meta.get('created_at')}, seed {model.meta.get('seed')}); "
                  "no desk model yet")
        except ModelFileError as exc:
            print(f"live: none: {exc}; triage runs on the keyword rules")
    print(f"corrections in this desk: {len(found)} ({sum(c.heldout for c in found)} held out for judging)")
    for r in rows:
        print(f"  model {r.id}  {r.status:8} {r.name:16} {r.created_at:%Y-%m-%d %H:%M}  corrections {r.corrections}")
    return 0


async def _rollback(app: DeskApp) -> int:
    from socialdesk.plugins.triage import desk_models

    retired, live = await desk_models.rollback(app.database)
    if retired is None:
        print("no desk model is live: the shipped base model already is")
    else:
        print(f"desk model {retired} is withdrawn; live now: "
              + (f"desk model {live}" if live is not None else "the shipped base model"))
    return 0


def run(args: argparse.Namespace, config: AppConfig, catalog: PluginCatalog) -> int:
    import asyncio

    if args.triage_command == "train" and not args.from_desk:
        return _train_base(args)
    if args.triage_command == "train":
        return asyncio.run(_with_app(config, catalog, lambda app: _train_desk(app, args)))
    if args.triage_command == "status":
        return asyncio.run(_with_app(config, catalog, _status))
    return asyncio.run(_with_app(config, catalog, _rollback))
