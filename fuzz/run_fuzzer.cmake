# Runs one fuzz target for SECONDS over a copy of its seed corpus, so the repository's corpus
# is never modified. Everything it writes (the growing corpus, crash-* reproducers, the
# extractor's sandbox) lands in WORK, which is emptied first.
#   cmake -DFUZZER=... -DSEEDS=... -DWORK=... -DSECONDS=20 -P run_fuzzer.cmake
foreach(required FUZZER SEEDS WORK SECONDS)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "run_fuzzer.cmake needs -D${required}=...")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts ${WORK}/tmp)
file(GLOB seeds ${SEEDS}/*)
if(NOT seeds)
  message(FATAL_ERROR "no seeds in ${SEEDS}")
endif()
file(COPY ${seeds} DESTINATION ${WORK}/corpus)

set(ENV{TMPDIR} ${WORK}/tmp)
# A run of one input longer than 10 s counts as a hang; 1 GiB of RSS (and of one malloc) as a
# memory blow-up. Both are findings, like crashes and sanitizer reports.
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=1024 -timeout=10
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "${FUZZER} failed (${status}); reproducers: ${found}")
endif()
