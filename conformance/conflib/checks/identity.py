"""config.md Hostname, Domainname, Extensibility and Valid values."""

from __future__ import annotations

from conflib.case import Case, equal, must_fail, must_pass
from conflib.registry import requirement

SPEC = "config.md"


@requirement(SPEC, "Hostname", "hostname is the container's hostname")
def hostname(case: Case) -> None:
    config = case.config("hostname")
    config["hostname"] = "conformance-host"
    equal(case.output(config), "conformance-host\n", "hostname")


@requirement(SPEC, "Domainname", "domainname is the container's domainname")
def domainname(case: Case) -> None:
    config = case.config("cat /proc/sys/kernel/domainname")
    config["domainname"] = "conformance.test"
    equal(case.output(config), "conformance.test\n", "domainname")


@requirement(SPEC, "Extensibility", "unknown properties MUST be ignored, not an error")
def unknown_properties(case: Case) -> None:
    config = case.config("echo started")
    config["org.example.conformance"] = {"unknown": True}
    config["process"]["conformanceUnknown"] = 1
    config["linux"]["conformanceUnknown"] = "x"
    result = must_pass(case.run(config), "run with unknown properties")
    equal(result.stdout, "started\n", "output")


@requirement(SPEC, "Valid values", "an invalid value MUST fail (namespace type)")
def invalid_value(case: Case) -> None:
    config = case.config()
    config["linux"]["namespaces"].append({"type": "conformance-invalid"})
    must_fail(case.run(config), "run with an unknown namespace type")
