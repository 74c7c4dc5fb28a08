"""The stages of pull, one module each, over one ``PullRun`` (docs/architecture.md):

list -> read -> normalise -> write
"""
