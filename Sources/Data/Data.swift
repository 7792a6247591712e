// Data: see the files of this folder.
