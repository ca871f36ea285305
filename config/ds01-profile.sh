# DS01 login greeting, installed as /etc/profile.d/ds01.sh by `make install`: your limits, your
# containers and any idle/runtime warnings. Silent in non-interactive shells (scp, ssh HOST CMD)
# and for users who never used DS01 (no ~/.ds01-limits); DS01_NO_GREETING=1 turns it off.
case $- in
    *i*)
        if [ -r "$HOME/.ds01-limits" ] && [ -z "${DS01_NO_GREETING:-}" ] && [ -x '@PYTHON@' ]; then
            '@PYTHON@' -I -S -c 'import sys; sys.path.insert(0, sys.argv[1]); from ds01common.greeting import main; main()' '@LIBDIR@' 2>/dev/null
        fi
        ;;
esac
