#!/usr/bin/env bash
# Mutation testing, module by module, each against the fast tests that cover it.
#
#   tools/mutation.sh                 every module below, smallest first
#   tools/mutation.sh renewal origin  only those
#   tools/mutation.sh --list          the modules, their lines and their tests
#
# Not run by CI, and not a test dependency: mutmut (2.5.1, which takes its
# settings as flags, so each module gets its own tests) is installed here, into
# the interpreter that runs the tests ($PYTHON, default .venv/bin/python).
#
# mutmut edits the files it mutates, so it works in a copy of the working tree
# (in $TMPDIR; KEEP=1 keeps it, with its .mutmut-cache for `mutmut show`).
# Each module is bounded by TIMEOUT seconds (default 1800).  Results go to
# stdout: the score, then each surviving mutant as a diff.  tests/README.md
# ("Mutation testing") records the last scores and why each survivor is
# accepted.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
timeout=${TIMEOUT:-1800}

# name | file | functions to mutate (all: the whole file) | tests (pytest arguments)
MODULES=(
  "renewal|src/astra_auth/credentials/renewal.py|all|tests/test_renewal_rules.py"
  "logmask|src/astra_auth/text/logmask.py|all|tests/test_masking_rules.py tests/test_redact.py -k logs or record or log_line"
  "safetext|src/astra_auth/text/safetext.py|all|tests/test_safetext_rules.py tests/test_response_properties.py -k rules or clean"
  "shellcmd|src/astra_auth/text/shellcmd.py|all|tests/test_shellcmd_rules.py tests/test_hints_rules.py"
  "origin|src/astra_auth/credentials/interface.py|origin bearer_error RefusalRule|tests/test_handoff_rules.py tests/test_renewal_rules.py tests/test_hints_rules.py"
  "validate|src/astra_auth/core/validate.py|token_url api_url _url _valid_host is_loopback_host|tests/test_validate_rules.py"
  "exec-env|src/astra_auth/commands/exec.py|is_secret_variable environment|tests/test_handoff_rules.py tests/test_exec.py -k rules or header_credential or basic_credential or cookie_credential or query_credential or url_zap"
  "proxy-forwarding|src/astra_auth/proxy/server.py|_connection_tokens _forwarded_headers|tests/test_proxy_rules.py tests/test_proxy.py -k rules or adds_a_fresh or x_astra_auth_none"
  "proxy-answer|src/astra_auth/proxy/server.py|Forwarder._forward Forwarder._stream_back|tests/test_proxy_rules.py tests/test_proxy.py tests/test_signed_types.py -k (through_the_proxy or not test_signed_types) and not sigterm_while_an_answer_streams and not scanner_gone_mid_upload and not nobody_reads and not renewed_ahead and not never_answers_connect and not pipelines_without_reading"
  "redact-views|src/astra_auth/text/redact.py|top _Pieces _View _Blocks _squeeze _squeezed_back _Squeezed _utf8_length _escaped_bytes _decoded _unescape _fold_char _fold _fold_text _fold_as_text _fold_as_bytes _Bits _Joined _runs _byte_views _text_stretches|tests/test_masking_rules.py tests/test_redact.py -k not test_test_token and not proxy and not huge"
  "redact-search|src/astra_auth/text/redact.py|_Form _form _text_form _bytes_forms _Index _alternatives _blob_forms _Compiled _search _Search _edge Redactor|tests/test_masking_rules.py tests/test_redact.py -k not test_test_token and not proxy and not huge"
  "client-auth|src/astra_auth/oauth/client_auth.py|ClientKey.check_alg ClientKey.private_key ClientKey.assertion|tests/test_client_auth_rules.py tests/test_keys_rules.py"
  "login-device|src/astra_auth/oauth/device.py|_checked _web_url _scheme_and_host _whole poll _expired|tests/test_login_rules.py"
  "login-authcode|src/astra_auth/oauth/authcode.py|Listener.wait Listener._handler.Handler._answer _check_issuer|tests/test_login_rules.py"
  "cache-key|src/astra_auth/credentials/oauth2.py|cache_key|tests/test_cache_rules.py"
  "token-state|src/astra_auth/storage/token_state.py|all|tests/test_cache_rules.py"
  "token-request|src/astra_auth/oauth/token_request.py|GrantRequest assertion_key_names|tests/test_token_request.py"
  "token-response|src/astra_auth/oauth/token_response.py|classify_response _expires_in json_value _looks_like_html seen_tokens _token_values|tests/test_token_response.py"
)

if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${MODULES[@]}" | column -t -s '|'
  exit 0
fi

"$python" -m pip install -q 'mutmut==2.5.1' 'whatthepatch>=1.0' 2>&1 | grep -v '^WARNING: Location' >&2 || true
mutmut=$(dirname "$python")/mutmut

work=$(mktemp -d "${TMPDIR:-/tmp}/astra-auth-mutation.XXXXXX")
if [[ ${KEEP:-} != 1 ]]; then trap 'rm -rf "$work"' EXIT; else echo "work copy: $work" >&2; fi
tar -C "$root" --exclude=./.venv --exclude=./.git --exclude='*/node_modules' \
    --exclude=./.hypothesis --exclude='*/__pycache__' -cf - . | tar -C "$work" -xf -
# The tests import the copy (PYTHONPATH comes before the editable install), and
# so do the processes they start (tests put the repository root on PYTHONPATH).
ln -s src/astra_auth "$work/astra_auth"
export PYTHONPATH="$work/src:$work"

wanted=("$@")
total=0
for entry in "${MODULES[@]}"; do
  IFS='|' read -r name file functions tests <<<"$entry"
  if ((${#wanted[@]})) && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  total=$((total + 1))
  echo "=== $name: $file ($functions) against: $tests"
  cd "$work"
  rm -f .mutmut-cache
  # shellcheck disable=SC2086 # the function names are words
  "$python" "$root/tools/mutation_lines.py" "$file" $functions >"$work/$name.patch"
  # -k takes the rest of the line as one expression.
  read -r -a args <<<"${tests%% -k *}"
  runner="$python -m pytest -x -q -p no:cacheprovider -p no:randomly ${args[*]}"
  if [[ $tests == *" -k "* ]]; then runner+=" -k '${tests#* -k }'"; fi
  set +e
  timeout "$timeout" "$mutmut" run --paths-to-mutate "$file" --tests-dir tests \
      --runner "$runner" --use-patch-file "$work/$name.patch" >"$work/$name.log" 2>&1
  status=$?
  set -e
  if ((status == 124)); then echo "stopped after $timeout s (TIMEOUT): partial results"; fi
  "$mutmut" results >"$work/$name.results" 2>/dev/null || true
  killed=$(grep -o '🎉 [0-9]*' "$work/$name.log" | tail -1 | tr -dc 0-9)
  survived=$(grep -o '🙁 [0-9]*' "$work/$name.log" | tail -1 | tr -dc 0-9)
  timedout=$(grep -o '⏰ [0-9]*' "$work/$name.log" | tail -1 | tr -dc 0-9)
  suspicious=$(grep -o '🤔 [0-9]*' "$work/$name.log" | tail -1 | tr -dc 0-9)
  killed=${killed:-0} survived=${survived:-0} timedout=${timedout:-0} suspicious=${suspicious:-0}
  all=$((killed + survived + timedout + suspicious))
  if ((all == 0)); then
    echo "no mutants ran; mutmut said:"; tail -20 "$work/$name.log"; continue
  fi
  # Suspicious: killed, but the tests took longer than usual; a timeout: killed too.
  caught=$((killed + timedout + suspicious))
  echo "killed $caught/$all ($((caught * 100 / all)) %), survived $survived" \
       "($timedout timed out, $suspicious slow)"
  # The survivors' ids, as `mutmut results` lists them ("1, 13, 15-16").
  ids=$(sed -n '/^Survived/,/^[A-Z]/p' "$work/$name.results" | grep -E '^[0-9][0-9, -]*$' |
        tr ',' '\n' | awk -F- 'NF { for (i = $1; i <= ($2 ? $2 : $1); i++) print i }' || true)
  for id in $ids; do
    echo "  survivor $id:"
    "$mutmut" show "$id" 2>/dev/null | sed -n '/^@@/,$p' | sed 's/^/    /'
  done
done
((total)) || { echo "no module named: ${wanted[*]} (see --list)" >&2; exit 2; }
