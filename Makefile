# DS01 — install, test, lint, demo. See README.md.
PREFIX     ?= /usr/local
DESTDIR    ?=
CONFDIR    ?= /etc/ds01
STATEDIR   ?= /var/lib/ds01
LOGDIR     ?= /var/log/ds01
CRONDIR    ?= /etc/cron.d
PROFILEDIR ?= /etc/profile.d
# Monitoring (docs/monitoring.md): logrotate rule, the ds01-exporter unit (installed, not enabled),
# and where the commented cron line would write its node_exporter textfile.
LOGROTATEDIR ?= /etc/logrotate.d
SYSTEMDDIR   ?= /etc/systemd/system
TEXTFILEDIR  ?= /var/lib/prometheus/node-exporter
SYSTEM_PYTHON ?= /usr/bin/python3
DOCKER_GROUP  ?= docker
# Locked mode (config `access: ds01-only`): members of USERS_GROUP run exactly the DS01 commands
# as root through the sudoers drop-in. Keep USERS_GROUP equal to the config's `users_group`.
USERS_GROUP   ?= ds01-users
SUDOERSDIR    ?= /etc/sudoers.d
# One alias per users group, so two installs' drop-ins never redefine each other's alias.
SUDO_ALIAS     = DS01_$(shell echo '$(USERS_GROUP)' | tr 'a-z' 'A-Z' | tr -c 'A-Z0-9\n' '_')

LIBDIR  = $(PREFIX)/lib/ds01
VENV    = $(LIBDIR)/venv
TEST_VENV = .venv

.PHONY: install uninstall test lint demo deps test-deps clean

# Debian packages a server needs: a Python that can make a virtualenv, and Docker.
deps:
	@$(SYSTEM_PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "installing python3-venv"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	@command -v dockerd >/dev/null 2>&1 || command -v docker >/dev/null 2>&1 || { \
	  echo "installing docker.io"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io; }

install: deps
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)
	rm -rf $(DESTDIR)$(LIBDIR)/ds01common
	cp -r lib/ds01common $(DESTDIR)$(LIBDIR)/ds01common
	find $(DESTDIR)$(LIBDIR)/ds01common -name __pycache__ -prune -exec rm -rf {} +
	@# The locations are baked in: an installed DS01 never takes them from a user's environment.
	printf '"""Written by make install: where this installed DS01 keeps its files."""\n\nLAYOUT = {\n    "config": "%s",\n    "state_dir": "%s",\n    "log_dir": "%s",\n    "templates_dir": "%s",\n    "bin_dir": "%s",\n}\n' \
	  '$(CONFDIR)/resource-limits.yaml' '$(STATEDIR)' '$(LOGDIR)' '$(CONFDIR)/templates' '$(PREFIX)/bin' \
	  > $(DESTDIR)$(LIBDIR)/ds01common/_install.py
	# A private virtualenv: works where the system Python refuses pip (PEP 668).
	test -x $(DESTDIR)$(VENV)/bin/python || $(SYSTEM_PYTHON) -m venv $(DESTDIR)$(VENV)
	$(DESTDIR)$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
	@# Every command's --help, rendered once: a lone --help then skips importing argparse (commands/rendered_help.py).
	PYTHONPATH=$(DESTDIR)$(LIBDIR) $(DESTDIR)$(VENV)/bin/python -m ds01common.commands.rendered_help $(DESTDIR)$(LIBDIR)/ds01common/commands/_rendered_help.py >/dev/null
	$(DESTDIR)$(VENV)/bin/python -m compileall -q $(DESTDIR)$(LIBDIR)/ds01common
	chmod -R a+rX $(DESTDIR)$(LIBDIR)
	@for script in bin/*; do \
	  name=$$(basename $$script); target=$(DESTDIR)$(PREFIX)/bin/$$name; rm -f $$target; \
	  if [ -L $$script ]; then ln -s $$(readlink $$script) $$target; \
	  else sed '1s|^#!.*python3.*$$|#!$(VENV)/bin/python -I|' $$script > $$target; chmod 755 $$target; fi; \
	done
	install -d -m 755 $(DESTDIR)$(CONFDIR) $(DESTDIR)$(CONFDIR)/templates
	test -e $(DESTDIR)$(CONFDIR)/resource-limits.yaml || install -m 644 config/resource-limits.yaml $(DESTDIR)$(CONFDIR)/resource-limits.yaml
	@for template in config/templates/*; do \
	  [ -e "$$template" ] || continue; \
	  test -e $(DESTDIR)$(CONFDIR)/templates/$$(basename $$template) || install -m 644 $$template $(DESTDIR)$(CONFDIR)/templates/; \
	done
	getent group $(DOCKER_GROUP) >/dev/null || groupadd --system $(DOCKER_GROUP)
	install -d -m 2770 -o root -g $(DOCKER_GROUP) $(DESTDIR)$(STATEDIR) $(DESTDIR)$(LOGDIR)
	chown root:$(DOCKER_GROUP) $(DESTDIR)$(STATEDIR) $(DESTDIR)$(LOGDIR)
	chmod 2770 $(DESTDIR)$(STATEDIR) $(DESTDIR)$(LOGDIR)
	install -d $(DESTDIR)$(CRONDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g; s|@LOGDIR@|$(LOGDIR)|g; s|@CONFDIR@|$(CONFDIR)|g; s|@STATEDIR@|$(STATEDIR)|g; s|@TEXTFILEDIR@|$(TEXTFILEDIR)|g' config/ds01.cron > $(DESTDIR)$(CRONDIR)/ds01
	chmod 644 $(DESTDIR)$(CRONDIR)/ds01
	@# The login greeting: limits, containers and warnings, under 100 ms (bench/login_greeting.py).
	install -d $(DESTDIR)$(PROFILEDIR)
	sed 's|@PYTHON@|$(VENV)/bin/python|g; s|@LIBDIR@|$(LIBDIR)|g' config/ds01-profile.sh > $(DESTDIR)$(PROFILEDIR)/ds01.sh
	chmod 644 $(DESTDIR)$(PROFILEDIR)/ds01.sh
	install -d $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(CONFDIR)/monitoring
	sed 's|@LOGDIR@|$(LOGDIR)|g; s|@DOCKER_GROUP@|$(DOCKER_GROUP)|g' config/logrotate.ds01 > $(DESTDIR)$(LOGROTATEDIR)/ds01
	chmod 644 $(DESTDIR)$(LOGROTATEDIR)/ds01
	sed 's|@BINDIR@|$(PREFIX)/bin|g; s|@DOCKER_GROUP@|$(DOCKER_GROUP)|g' config/monitoring/ds01-exporter.service > $(DESTDIR)$(SYSTEMDDIR)/ds01-exporter.service
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/ds01-exporter.service
	install -m 644 config/monitoring/ds01-alerts.yml config/monitoring/ds01-grafana-dashboard.json $(DESTDIR)$(CONFDIR)/monitoring/
	@# Locked mode's door: exactly the installed commands, as root, for USERS_GROUP, no password.
	getent group $(USERS_GROUP) >/dev/null || groupadd --system $(USERS_GROUP)
	install -d -m 750 $(DESTDIR)$(SUDOERSDIR)
	@{ echo '# DS01 locked mode (config access: ds01-only): written by make install; do not edit.'; \
	  echo 'Defaults:%$(USERS_GROUP) env_reset, !setenv'; \
	  printf 'Cmnd_Alias %s =' "$(SUDO_ALIAS)"; sep=' '; \
	  for script in bin/*; do printf '%s%s' "$$sep" "$(PREFIX)/bin/$$(basename $$script)"; sep=', '; done; echo; \
	  echo '%$(USERS_GROUP) ALL = (root) NOPASSWD: $(SUDO_ALIAS)'; } > $(DESTDIR)$(SUDOERSDIR)/.ds01.new
	chmod 440 $(DESTDIR)$(SUDOERSDIR)/.ds01.new
	@if command -v visudo >/dev/null 2>&1; then visudo -cqf $(DESTDIR)$(SUDOERSDIR)/.ds01.new || { rm -f $(DESTDIR)$(SUDOERSDIR)/.ds01.new; echo "the sudoers drop-in failed visudo -c" >&2; exit 1; }; \
	  else echo "visudo not found: install sudo before using locked mode (access: ds01-only)"; fi
	mv -f $(DESTDIR)$(SUDOERSDIR)/.ds01.new $(DESTDIR)$(SUDOERSDIR)/ds01
	@echo "DS01 installed: commands in $(PREFIX)/bin, config in $(CONFDIR), state in $(STATEDIR)"

uninstall:
	@for script in bin/*; do rm -f $(DESTDIR)$(PREFIX)/bin/$$(basename $$script); done
	rm -rf $(DESTDIR)$(LIBDIR)
	rm -f $(DESTDIR)$(CRONDIR)/ds01 $(DESTDIR)$(SUDOERSDIR)/ds01 $(DESTDIR)$(PROFILEDIR)/ds01.sh
	rm -f $(DESTDIR)$(LOGROTATEDIR)/ds01 $(DESTDIR)$(SYSTEMDDIR)/ds01-exporter.service
	@echo "kept $(CONFDIR), $(STATEDIR), $(LOGDIR) and every workspace"

# Everything the suite needs on a fresh Debian machine, then the whole suite with a real engine.
test:
	bash tests/prepare.sh
	DS01_REQUIRE_DOCKER=1 $(TEST_VENV)/bin/python -m pytest -q tests

lint:
	bash tests/prepare.sh --venv-only
	@# ruff and mypy (strict on the library, see mypy.ini; the bin/ wrappers as scripts): all run, any failure fails.
	@status=0; \
	$(TEST_VENV)/bin/python -m ruff check lib tests bench $$(find bin -type f) || status=1; \
	$(TEST_VENV)/bin/python -m mypy || status=1; \
	$(TEST_VENV)/bin/python -m mypy --scripts-are-modules --follow-imports=silent $$(find bin -type f) || status=1; \
	exit $$status

demo:
	bash tests/prepare.sh
	PATH=$(CURDIR)/$(TEST_VENV)/bin:$$PATH bash scripts/demo.sh

clean:
	rm -rf $(TEST_VENV) .pytest_cache build
