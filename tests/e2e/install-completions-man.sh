#!/usr/bin/env bash
# `cmake --install` puts the binary, bash and zsh completions and the man page in place, and
# they match the binary: the completions are generated from its --help at install time
# (scripts/gen-completions), so every subcommand and option it lists completes and is in the
# man page; the man page renders without warnings; bash registers the completion and completes
# subcommands, options and choices.
source "$(dirname "$0")/common.inc"
: "${ASSETGEN_BUILD_DIR:?set ASSETGEN_BUILD_DIR (ctest does)}"

prefix="$T/prefix"
timeout 300 cmake --install "$ASSETGEN_BUILD_DIR" --prefix "$prefix" >install.txt 2>&1 ||
  { cat install.txt >&2; fail "cmake --install failed"; }
bash_file="$prefix/share/bash-completion/completions/assetgen"
zsh_file="$prefix/share/zsh/site-functions/_assetgen"
man_file="$prefix/share/man/man1/assetgen.1"
for f in "$prefix/bin/assetgen" "$bash_file" "$zsh_file" "$man_file"; do
  [ -s "$f" ] || { ls -R "$prefix" >&2; fail "not installed: $f"; }
done
"$prefix/bin/assetgen" --version >/dev/null || fail "the installed binary does not run"
grep -qF "$bash_file" "$ASSETGEN_BUILD_DIR/install_manifest.txt" || fail "completions are not in install_manifest.txt"

# Every subcommand and option in the binary's --help, by command path (the same walk a user
# would do by hand), must complete in bash, be offered by zsh and be described in the man page.
python3 - "$ASSETGEN" >help-options.txt <<'PY'
import re, subprocess, sys, os
env = {"PATH": os.environ["PATH"], "HOME": "~", "LANG": "C.UTF-8"}
def walk(path):
    text = subprocess.run([sys.argv[1], *path, "--help"], capture_output=True, text=True, env=env, cwd="/").stdout
    opts, subs, in_subs = [], [], False
    for line in text.splitlines():
        if re.match(r"^\S", line):
            in_subs = line == "Subcommands:"
            if not in_subs and subs:
                break
            continue
        m = re.match(r"^ {2,8}(-[^ ]+)", line)  # not a description in column 30 ("--sign: GET, ...")
        if m:
            opts += m.group(1).split(",")
        elif in_subs and line.strip():
            subs.append(line.split()[0])
    print(" ".join(path) + "|" + " ".join(opts) + "|" + " ".join(subs))
    for s in subs:
        walk(path + [s])
walk([])
PY
[ "$(count_lines help-options.txt)" -ge 4 ] || { cat help-options.txt >&2; fail "too few commands in --help"; }

cat >complete.sh <<'EOF'
source "$1"
complete -p assetgen
# comp WORD... : completes the last word as bash would, prints the candidates, one a line.
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _assetgen; printf '%s\n' "${COMPREPLY[@]}"; }
EOF
bash -c "source complete.sh '$bash_file'" >complete-p.txt 2>&1 || { cat complete-p.txt >&2; fail "bash cannot load the completion"; }
assert_contains complete-p.txt "complete -F _assetgen assetgen"

while IFS='|' read -r path opts subs; do
  words=(assetgen $path)
  for o in $opts; do
    bash -c "source complete.sh '$bash_file' >/dev/null; comp ${words[*]} '$o'" >got.txt
    grep -qxF -- "$o" got.txt || fail "bash: 'assetgen $path $o' does not complete"
    grep -qF -- "$o" "$zsh_file" || fail "zsh: $o of 'assetgen $path' is missing"
    [ "$o" = "-h" ] || [ "$o" = "--help" ] ||
      grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$man_file" || fail "man: $o of 'assetgen $path' is missing"
  done
  if [ -n "$subs" ]; then
    bash -c "source complete.sh '$bash_file' >/dev/null; comp ${words[*]} ''" >got.txt
    for s in $subs; do
      grep -qxF "$s" got.txt || fail "bash: 'assetgen $path $s' does not complete"
      grep -qF "$s" "$zsh_file" || fail "zsh: subcommand $s is missing"
      grep -qF ".SS \"assetgen${path:+ $path} $s\"" "$man_file" || fail "man: no section for 'assetgen $path $s'"
    done
  fi
done <help-options.txt

# Choices complete after their option; an option's value is not taken for a subcommand.
bash -c "source complete.sh '$bash_file' >/dev/null; comp assetgen seed --format ''" >got.txt
assert_eq "$(tr '\n' ' ' <got.txt)" "csv json jsonl " "seed --format choices"
bash -c "source complete.sh '$bash_file' >/dev/null; comp assetgen ledger sum --by ''" >got.txt
grep -qx user got.txt || fail "ledger sum --by choices"
bash -c "source complete.sh '$bash_file' >/dev/null; comp assetgen --config ledger r" >got.txt
grep -qx run got.txt || fail "a --config value was taken for a subcommand"

# zsh: the file parses and compinit registers it for assetgen.
if command -v zsh >/dev/null; then
  zsh -n "$zsh_file" || fail "zsh: syntax error in _assetgen"
  out=$(zsh -fc "fpath=('$(dirname "$zsh_file")' \$fpath); autoload -Uz compinit; compinit -u -d '$T/zcompdump'; print -r -- \${_comps[assetgen]}")
  assert_eq "$out" "_assetgen" "zsh compinit registration"
  # And it completes: type into an interactive zsh on a pseudo-terminal, press TAB, and wait for
  # what completion should show (polling, up to 30 s each, for a loaded machine).
  cat >drive.zsh <<'ZSH'
zmodload zsh/zpty
zpty z 'zsh -f -i'
expect() {  # PATTERN: read the terminal until PATTERN shows
  local out="" chunk deadline=$(( SECONDS + 30 ))
  while (( SECONDS < deadline )); do
    if zpty -rt z chunk 2>/dev/null; then out+=$chunk; else sleep 0.1; fi
    [[ $out == *$~1* ]] && return 0
  done
  print -r -- "zsh: did not see '$1' in: ${(q+)out}" >&2
  zpty -d z; exit 1
}
zpty -w -n z "PS1='READY> '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -d $2"$'\n'
expect 'READY> '
zpty -w -n z $'assetgen se\t'
expect 'assetgen seed'
zpty -w -n z $'\C-u'"assetgen ledger sum --by "$'\t'
expect 'model*user'
zpty -w -n z $'\C-u'"assetgen run --budget-p"$'\t'
expect 'assetgen run --budget-policy'
zpty -d z
ZSH
  timeout 120 zsh -f drive.zsh "$(dirname "$zsh_file")" "$T/zcompdump2" || fail "zsh does not complete assetgen"
else
  echo "note: zsh is not installed; the zsh completion was only checked for content"
fi

# The man page renders without a warning, with its sections.
if command -v man >/dev/null; then
  MANWIDTH=100 man -l "$man_file" >man.txt 2>man-err.txt || { cat man-err.txt >&2; fail "man -l failed"; }
else
  groff -man -Tutf8 "$man_file" >man.txt 2>man-err.txt || { cat man-err.txt >&2; fail "groff failed"; }
fi
groff -man -Tutf8 -ww -z "$man_file" 2>groff-warnings.txt
[ ! -s groff-warnings.txt ] || { cat groff-warnings.txt >&2; fail "groff warns about the man page"; }
for section in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" ENVIRONMENT FILES; do
  grep -q "^$section" man.txt || fail "man page has no $section section"
done
grep -q "assetgen seed \[OPTIONS\]" man.txt || fail "man page: seed usage"
version=$("$prefix/bin/assetgen" --version | awk '{print $2}')
grep -qF "assetgen $version" man.txt || fail "man page: version $version"
echo "ok: cmake --install puts the binary, bash and zsh completions and a man page that match --help"
