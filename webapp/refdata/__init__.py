"""Reference data: Zhejiang administrative divisions, industry classification, enterprise size rules
and the unified social credit code.

Pure Python and standard library only; the data files are JSON next to the modules.
"""
