// SimCLR: see the files of this folder.
