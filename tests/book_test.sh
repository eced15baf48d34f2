#!/usr/bin/env bash
# book.pages: given the built book, when headless Chromium renders it, then every chapter page
# exists, is linked from the front page, shows every line of the code it quotes (\snippet) and
# every line of the run it includes (\verbinclude, recorded by the book's build), and wears the
# theme (doxygen-awesome's scripts ran). Each chapter's conversation (book/views) is there:
# its sequence diagram drawn (\mscfile), its summary table, the curl replay and the whole run
# folded (\htmlinclude), and no element is wider than the text column. Full-page screenshots
# of two chapters land in <build-dir>/book/screenshots.
#
# Usage: book_test.sh <build-dir> <source-dir>
#   e.g. tests/book_test.sh build .   (after: cmake --build build --target book)
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <build-dir> <source-dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
html=$build/book/html
recorded=$build/book/recorded
export LC_ALL=C

die() { echo "book.pages: $*" >&2; exit 1; }
failures=0
fail() { echo "book.pages: FAIL: $*" >&2; failures=$((failures + 1)); }

[[ -f $html/index.html ]] ||
  die "the book is not built: no $html/index.html. Build it with: cmake --build $build --target book"
chromium=$(command -v chromium || command -v chromium-browser) ||
  die "chromium is not installed, and the book is checked as Chromium renders it (apt-get install chromium)"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# Whitespace collapsed to single spaces and trimmed: how a line is compared with a page.
squeeze() { tr '\t\n' '  ' | tr -s ' ' | sed -e 's/^ //' -e 's/ $//'; }

chromium_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars
  --window-size=1280,900 --virtual-time-budget=5000)

# Renders a page (after its scripts ran) and sets `dom` to the HTML and `text` to its text.
render() {
  local page=$1
  timeout 120 "$chromium" "${chromium_flags[@]}" --user-data-dir="$workdir/profile-$page" \
    --dump-dom "file://$html/$page" >"$workdir/$page.dom" 2>"$workdir/$page.log" ||
    die "chromium could not render $page: $(tail -n 5 "$workdir/$page.log")"
  dom=$(<"$workdir/$page.dom")
  [[ -n $dom ]] || die "chromium rendered $page as nothing: $(tail -n 5 "$workdir/$page.log")"
  text=$(sed -e 's/<[^>]*>//g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' \
             -e "s/&#39;/'/g" -e 's/&nbsp;/ /g' -e 's/\xc2\xa0/ /g' -e 's/&amp;/\&/g' \
             "$workdir/$page.dom" | squeeze)
}

# Every non-blank line of a file must appear on the page.
expect_lines() {
  local what=$1 file=$2 page=$3 line missing=0
  while IFS= read -r line || [[ -n $line ]]; do
    line=$(squeeze <<<"$line")
    [[ -z $line || $text == *"$line"* ]] && continue
    ((missing++ < 3)) && fail "$page does not show this line of $what: $line"
  done <"$file"
  ((missing <= 3)) || fail "$page misses $((missing - 3)) more lines of $what"
  ((missing == 0))
}

# What each chapter must show besides its snippets and recordings: the facts it teaches.
declare -A must_show=(
  [chapter00]=$'Docker-Distribution-Api-Version: registry/2.0\nHTTP/1.1 200 OK'
  [chapter01]=$'Docker-Content-Digest\nPUT /v2/my-busybox/manifests/latest'
  # Chapter 16's table of clients, generated from the registry's log (book/views/client_comparison).
  [chapter16]=$'manifests pushed as\nskopeo/1.9.3\nBuildah/1.28.2\ncontainers/5.23.1\nregistry-workbook/1.0\nDocker-Client/20.10'
)

render index.html
index_text=$text
for theme_mark in 'doxygen-awesome.css' 'workbook.css' '<doxygen-awesome-dark-mode-toggle'; do
  [[ $dom == *"$theme_mark"* ]] || fail "index.html lacks the theme: no $theme_mark"
done

chapters=("$source"/chapters/[0-9][0-9]-*.md)
[[ -e ${chapters[0]} ]] || die "no chapters in $source/chapters"
for markdown in "${chapters[@]}"; do
  number=$(basename "$markdown" | cut -c1-2)
  label=chapter$number
  heading=$(head -n 1 "$markdown")
  if [[ $heading != "# "*"{#$label}" ]]; then
    fail "$(basename "$markdown") must start with '# <title> {#$label}'"
    continue
  fi
  title=$(squeeze <<<"${heading#\# }" | sed "s/ {#$label}\$//")
  page=$label.html
  if [[ ! -f $html/$page ]]; then
    fail "no page $page for $(basename "$markdown") (is it in chapters/index.md as \\subpage $label?)"
    continue
  fi
  [[ $index_text == *"$title"* ]] || fail "the front page does not list '$title'"

  render "$page"
  [[ $dom == *'<doxygen-awesome-dark-mode-toggle'* ]] || fail "$page lacks the theme's scripts"
  [[ $text == *"$title"* ]] || fail "$page does not show its title '$title'"
  snippets=0 recordings=0

  while read -r file id; do
    snippets=$((snippets + 1))
    # A program's snippets are in examples/; the library's are named by their path (wbclient/...);
    # a harness template's (nginx's, chapter 15) by its name, between "# [id]" comments.
    code=$source/examples/$file
    marker="//! [$id]"
    [[ $file != wbclient/* ]] || code=$source/$file
    if [[ $file == *.conf.in ]]; then code=$source/harness/$file; marker="# [$id]"; fi
    if ! grep -qF "$marker" "$code" 2>/dev/null; then
      fail "$page quotes snippet [$id] of $file, which has no such marker"
      continue
    fi
    awk -v marker="$marker" 'index($0, marker) { inside = !inside; next } inside' "$code" \
      >"$workdir/snippet"
    [[ -s $workdir/snippet ]] || fail "snippet [$id] of $file is empty"
    expect_lines "snippet [$id] of $file" "$workdir/snippet" "$page" ||
      echo "book.pages: (if $file changed since, rebuild: cmake --build $build --target book)" >&2
  done < <(sed -n 's/^[[:space:]]*\\snippet[[:space:]]\+\([^[:space:]]\+\)[[:space:]]\+\([a-z0-9_]\+\).*/\1 \2/p' "$markdown")

  while read -r file; do
    recordings=$((recordings + 1))
    run=$recorded/$file
    if [[ ! -s $run ]]; then
      fail "$page includes $file, but the book's build recorded no $run"
      continue
    fi
    # A program's run shows its exchanges; a .registry.log shows the server's side of them.
    if [[ $file == *.narration.out ]]; then
      # The program's own lines; its exchanges are in the conversation (\htmlinclude) below.
      ! grep -q '^< HTTP/[0-9.]* ' "$run" || fail "$run is meant to hold the narration alone, yet shows exchanges"
    elif [[ $file == *.panic.out ]]; then
      # A registry that could not start (chapter 12's mirror without its upstream): its panic.
      grep -q '^panic: ' "$run" && grep -q '^exit code 2$' "$run" || fail "$run holds no panic and exit code 2"
    elif [[ $file == *.gc.out ]]; then
      grep -q 'blobs marked' "$run" || fail "$run holds no garbage-collect summary"
    elif [[ $file == *_mirror_bench.txt ]]; then
      # Chapter 12's pulls through a mirror: the three rows, and what the upstream served.
      for row in 'direct from the upstream' 'first through a fresh mirror (cold)' 'again through the mirror (cached)'; do
        grep -q "^  $row  *[0-9]* MB/s" "$run" || fail "$run lacks the row '$row'"
      done
      grep -q '0 per cached pull' "$run" || fail "$run does not show the upstream serving no blob to a cached pull"
    elif [[ $file == *_replicas_bench.txt ]]; then
      # Chapter 15's replicas on RGW: the five setups with their MB/s, every replica serving
      # requests through nginx, and the balancer's goal judged (met or missed: a busy machine).
      for row in 'one registry, filesystem driver' 'one replica on RGW, directly (no nginx)' \
                 'nginx + 1 replica on RGW' 'nginx + 2 replicas on RGW' 'nginx + 3 replicas on RGW'; do
        grep -qF "  $row " "$run" && grep -F "  $row " "$run" | grep -qE '^  .{40} +[0-9]+ +[0-9.]+x +[0-9]+ ' ||
          fail "$run lacks the row '$row' with its MB/s"
      done
      grep -qE '^  nginx \+ 3 replicas on RGW .* [1-9][0-9]* / [1-9][0-9]* / [1-9][0-9]*$' "$run" ||
        fail "$run does not show each of 3 replicas serving requests through nginx"
      grep -qE '^  \[(met|missed)\] +through nginx >= 0\.9x one replica directly: ' "$run" ||
        fail "$run does not judge the balancer's goal"
    elif [[ $file == *_bench.txt ]]; then
      # The quick benchmark: a table with every tool on every case, and the goals judged.
      for tool in ours skopeo curl; do
        [[ $(grep -c "^[1-4] .* $tool " "$run") == 4 ]] || fail "$run lacks a $tool row for each of the 4 cases"
      done
      grep -q "^The workbook's speed goals" "$run" || fail "$run judges no goals"
    elif [[ $file == *.out ]]; then
      grep -q '^< HTTP/[0-9.]* ' "$run" || fail "$run shows no HTTP exchange"
    else
      grep -q '"msg": "response completed' "$run" || fail "$run holds no registry log line"
    fi
    expect_lines "the recorded run $file" "$run" "$page" || true
  done < <(sed -n 's/^[[:space:]]*\\verbinclude[[:space:]]\+\([^[:space:]]\+\).*/\1/p' "$markdown")

  # Charts recorded at build time: copied next to the page and embedded in it.
  while read -r image; do
    [[ -s $html/$image ]] || fail "$page shows $image, but the book holds no $html/$image"
    [[ $dom == *"data=\"$image\""* || $dom == *"src=\"$image\""* ]] || fail "$page does not embed $image"
    [[ $image != *.svg ]] || grep -q '<svg' "$html/$image" || fail "$html/$image is no SVG"
  done < <(sed -n 's/^[[:space:]]*\\image[[:space:]]\+html[[:space:]]\+\([^[:space:]]\+\).*/\1/p' "$markdown")

  # Previous/Next, generated from chapters/chapters.list: the neighbours in its order.
  neighbours=$(awk -F' [|] ' -v n="$number" '/^[0-9][0-9] /{ order[++count] = $1 } END {
      for (i = 1; i <= count; ++i) if (order[i] == n) print (i > 1 ? order[i - 1] : "-"), (i < count ? order[i + 1] : "-") }' \
      "$source/chapters/chapters.list")
  read -r previous next <<<"$neighbours"
  [[ -n ${previous:-} ]] || fail "chapter $number is not in chapters/chapters.list"
  [[ $text == *"Previous: "*"Next: "* ]] || fail "$page has no Previous/Next line"
  [[ ${previous:--} == - || $dom == *"href=\"chapter$previous.html\""* ]] || fail "$page does not link its previous chapter $previous"
  [[ ${next:--} == - || $dom == *"href=\"chapter$next.html\""* ]] || fail "$page does not link its next chapter $next"

  # The conversation: <program>.views.html under the diagram <program>.msc.
  conversations=0
  while read -r program; do
    conversations=$((conversations + 1))
    run=$recorded/$program.out
    [[ -s $run ]] || { fail "$page shows $program's conversation, but the book's build recorded no $run"; continue; }
    grep -q '^< HTTP/[0-9.]* ' "$run" || fail "$run shows no HTTP exchange"
    grep -qF "\\mscfile $program.msc" "$markdown" || fail "$(basename "$markdown") draws no diagram of $program (\\mscfile $program.msc)"
    svg=$(grep -o "src=\"msc_$program[^\"]*\.svg\"[^>]*" <<<"$dom" | head -n 1 || true)
    if [[ -z $svg ]]; then
      fail "$page shows no sequence diagram of $program"
    else
      file=$(sed 's/^src="\([^"]*\)".*/\1/' <<<"$svg")
      [[ $svg =~ data-rendered=\"([0-9.]+)x([0-9.]+)\" ]] && [[ ${BASH_REMATCH[1]%.*} -gt 100 && ${BASH_REMATCH[2]%.*} -gt 50 ]] ||
        fail "$page's diagram $file was not drawn by Chromium ($svg)"
      [[ $(grep -c '<line' "$html/$file") -gt 2 ]] || fail "$html/$file draws no lifelines and arrows"
    fi
    rows=$(grep -o "<tr id=\"chapter$number-x[0-9]*\"" <<<"$dom" | wc -l)
    exchanges=$(grep -c '' "$recorded/$program.transcript.jsonl" || true)
    [[ $rows -gt 0 && $rows == "$exchanges" ]] ||
      fail "$page's summary table has $rows rows for the $exchanges exchanges of $program"
    [[ $dom == *'<details class="transcript">'* ]] || fail "$page does not fold the whole run into <details>"
    [[ $text == *"curl -sS"*"localhost:500"* ]] || fail "$page shows no curl command to replay an exchange"
    expect_lines "the recorded run $program.out (folded)" "$run" "$page" || true
  done < <(sed -n 's/^[[:space:]]*\\htmlinclude[[:space:]]\+\([0-9a-z_]\+\)\.views\.html.*/\1/p' "$markdown")
  ((conversations > 0)) || fail "$(basename "$markdown") shows no conversation (\\htmlinclude <program>.views.html)"
  too_wide=$(sed -n 's/.*data-too-wide="\([^"]*\)".*/\1/p' <<<"$dom" | head -n 1)
  [[ $dom == *'data-too-wide="'* ]] || fail "$page was not measured (book/rendered_state.js did not run)"
  [[ -z $too_wide ]] || fail "$page has lines wider than its column: ${too_wide:0:400}"

  ((snippets > 0)) || fail "$(basename "$markdown") quotes no code (\\snippet)"
  ((recordings > 0)) || fail "$(basename "$markdown") shows no recorded run (\\verbinclude)"

  if [[ -n ${must_show[$label]:-} ]]; then
    while IFS= read -r fact; do
      [[ $text == *"$fact"* ]] || fail "$page does not show '$fact'"
    done <<<"${must_show[$label]}"
  fi
  echo "book.pages: $page: $snippets snippets, $recordings recorded runs checked"
done

# The reference page: every error code chapter 04 provokes (its program names each one it
# asks for) is indexed, and every link of both indexes opens an exchange row that exists.
if [[ ! -f $html/reference.html ]]; then
  fail "no reference page reference.html (chapters/reference.md)"
else
  render reference.html
  [[ $index_text == *"every endpoint and error code"* ]] || fail "the front page does not link the reference page"
  codes=$(sed -n 's/^  \([A-Z_]\+\): [A-Z]\+ .*/\1/p' "$recorded/04_tour_of_the_api.narration.out" | sort -u)
  [[ $(wc -w <<<"$codes") -ge 10 ]] || fail "chapter 04's run names fewer than ten error codes: $codes"
  for code in $codes; do
    [[ $dom == *"id=\"error-$code\""* ]] || fail "reference.html does not index the error code $code"
  done
  links=0
  while read -r target anchor; do
    links=$((links + 1))
    grep -q "id=\"$anchor\"" "$html/$target" 2>/dev/null || fail "reference.html links to $target#$anchor, which does not exist"
  done < <(grep -o 'href="chapter[0-9][0-9]\.html#chapter[0-9][0-9]-x[0-9]*"' <<<"$dom" | sed 's/href="\([^#]*\)#\([^"]*\)"/\1 \2/' | sort -u)
  ((links >= 20)) || fail "reference.html links only $links exchanges"
  for section in reference_endpoints reference_errors glossary; do
    [[ $dom == *"id=\"$section\""* ]] || fail "reference.html has no section $section"
  done
  echo "book.pages: reference.html: $(wc -w <<<"$codes") error codes of chapter 04, $links exchange links checked"
fi

# The library reference (chapters/library.md), generated from wbclient's public headers by the
# same Doxygen run: linked from the front page and the reference page, it reaches every header
# it names, and the class every chapter uses is documented with its members.
if [[ ! -f $html/library_reference.html ]]; then
  fail "no library reference page library_reference.html (chapters/library.md)"
else
  [[ $index_text == *"every class, function and field of the library"* ]] || fail "the front page does not link the library reference"
  grep -q 'href="library_reference.html"' "$html/reference.html" || fail "reference.html does not link the library reference"
  render library_reference.html
  [[ $dom == *'<doxygen-awesome-dark-mode-toggle'* ]] || fail "library_reference.html lacks the theme's scripts"
  headers=0
  while read -r target; do
    headers=$((headers + 1))
    [[ -f $html/$target ]] || fail "library_reference.html links to $target, which does not exist"
  done < <(grep -o 'href="[a-z_]*_8hpp\.html"' <<<"$dom" | sed 's/href="\([^"]*\)"/\1/' | sort -u)
  ((headers >= 20)) || fail "library_reference.html links only $headers headers"
  for header in "$source"/wbclient/*/*.hpp; do
    name=$(basename "$header" .hpp | sed 's/_/__/g')_8hpp.html
    [[ -f $html/$name ]] || fail "the library reference has no page for ${header#"$source"/} ($name)"
  done
  client=$html/classwbclient_1_1HttpClient.html
  [[ -f $client ]] && grep -q 'perform' "$client" && grep -q 'set_authorizer' "$client" ||
    fail "the library reference does not document wbclient::HttpClient's members ($client)"
  echo "book.pages: library_reference.html: $headers headers linked"
fi

# Full-page screenshots of two chapters, kept in the build tree for a human to look at.
screenshots=$build/book/screenshots
mkdir -p "$screenshots"
for page in chapter01.html chapter04.html; do
  render "$page"
  height=$(sed -n 's/.*data-page-height="\([0-9]*\)".*/\1/p' <<<"$dom" | head -n 1)
  [[ -n $height ]] || { fail "$page reports no height to screenshot"; continue; }
  ((height <= 16000)) || height=16000
  shot=$screenshots/${page%.html}.png
  rm -f "$shot"
  timeout 120 "$chromium" "${chromium_flags[@]/--window-size=1280,900/--window-size=1280,$height}" \
    --user-data-dir="$workdir/profile-shot-$page" --screenshot="$shot" "file://$html/$page" \
    >"$workdir/shot-$page.log" 2>&1 || fail "chromium could not screenshot $page: $(tail -n 3 "$workdir/shot-$page.log")"
  [[ $(stat -c %s "$shot" 2>/dev/null || echo 0) -gt 10000 ]] || fail "the screenshot $shot is missing or blank"
done
echo "book.pages: screenshots in $screenshots"

if ((failures > 0)); then
  echo "book.pages: $failures failures in $html" >&2
  exit 1
fi
echo "book.pages: ${#chapters[@]} chapters render with their code and recorded runs"
