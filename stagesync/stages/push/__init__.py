"""The stages of push, one module each, over one ``PushRun`` (docs/architecture.md):

    bind -> lock -> read -> check -> apply -> verify -> activate -> record -> report

A dry run is bind -> read -> check -> preview -> report: no lock, no journal, no writes.
"""
