# Sourced by the check scripts whose outcome scripts/test.sh counts: writes their steps as a JUnit XML report,
# the format test.sh reads for CTest too.
#
#   junit_write FILE SUITE TOTAL_SECONDS
#
# reads the caller's parallel arrays: names[i], results[i] (passed | failed | skipped), seconds[i] and
# messages[i] (the failure message; unused otherwise).
junit_xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' <<<"$1"; }

junit_write() {
  local file=$1 suite=$2 total=$3 i n_failed=0 n_skipped=0
  for i in "${!names[@]}"; do
    case "${results[$i]}" in failed) ((++n_failed)) ;; skipped) ((++n_skipped)) ;; esac
  done
  mkdir -p "$(dirname "$file")"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites>"
    echo "<testsuite name=\"$suite\" tests=\"${#names[@]}\" failures=\"$n_failed\" errors=\"0\" skipped=\"$n_skipped\" time=\"$total\">"
    for i in "${!names[@]}"; do
      echo -n "  <testcase classname=\"$suite\" name=\"$(junit_xml_escape "${names[$i]}")\" time=\"${seconds[$i]}\""
      case "${results[$i]}" in
        passed) echo "/>" ;;
        skipped) echo "><skipped/></testcase>" ;;
        failed) echo "><failure message=\"$(junit_xml_escape "${messages[$i]}")\"/></testcase>" ;;
      esac
    done
    echo "</testsuite>"
    echo "</testsuites>"
  } >"$file"
}
