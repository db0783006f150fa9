#!/bin/sh
# render.sh SCDOC SOURCE OUTPUT [@PLACEHOLDER@=FILE ...] [NAME=VALUE ...]
# Fills a page's placeholders, then builds it to roff with scdoc. A line holding @PLACEHOLDER@ is
# replaced by FILE's lines (generated references, the daemons' common sections); @NAME@ anywhere
# is replaced by VALUE. A placeholder left unfilled is an error, not a page with holes.
set -eu
scdoc=$1 source=$2 output=$3
shift 3
tmp="$output.in"
cp "$source" "$tmp"
for arg in "$@"; do
    key=${arg%%=*}
    value=${arg#*=}
    case $key in
        @*@)
            [ -s "$value" ] || { echo "render.sh: $value (for $key) is missing or empty" >&2; exit 1; }
            sed -i -e "/$key/{r $value" -e d -e '}' "$tmp" ;;
        *) sed -i "s|@$key@|$value|g" "$tmp" ;;
    esac
done
if grep -n '@[A-Z_][A-Z_]*@' "$tmp" >&2; then
    echo "render.sh: $source: placeholder(s) above left unfilled" >&2
    exit 1
fi
# No hyphenation: keys and environment variables must read (and search) whole.
"$scdoc" < "$tmp" > "$output.roff"
sed '/^\.TH /a .nh' "$output.roff" > "$output"
rm -f "$tmp" "$output.roff"
